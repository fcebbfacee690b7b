"""An integration written only against the vendors' own SDKs (stripe-python, simple-salesforce,
zenpy, netsuite), doing the seed flow; run it against `syncline serve --wire vendor` and test it
with `syncline conform`. See README: "An existing integration, unmodified"."""
