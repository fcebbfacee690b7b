"""The studio: a local web page that replays a run, drives a live one, and plays lessons.

It is a reader of histories (recorded, or live and paged from the services) and a client of
the services' admin endpoints; it keeps no second model of a run. `index` reads a history once
into what the page needs up front (fault windows, queue depths, the checkers' running
verdicts); `sources` pages records out of a stored file or a live buffer; `server` is the
FastAPI app; `lessons` are the scripted, narrated runs.
"""
