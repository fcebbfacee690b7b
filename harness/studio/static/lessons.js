// The studio page's lessons: captions at their moments, pauses, acts.
// Loaded before studio.js, whose helpers (studio, $, api, seek…) these functions use when run.
"use strict";

// -- lessons -----------------------------------------------------------------------------------

function lessonStop(from, to) {
  const lesson = studio.session.lesson;
  if (!lesson) return to;
  const act = lesson.acts[studio.act];
  for (const [i, caption] of act.captions.entries()) {
    const key = `${studio.act}:${i}`;
    if (caption.t === null || studio.shown.has(key) || caption.t > to) continue;
    studio.shown.add(key);
    showCaption(caption);
    if (caption.pause) {
      studio.waiting = true;
      $("continue").textContent = "Continue";
      $("continue").hidden = false;
      setPlaying(false);
      return Math.max(from, caption.t);
    }
  }
  return to;
}

function showCaption(caption) {
  $("caption").textContent = caption.text;
  $("caption").className = caption.at.startsWith("breach") ? "breach" : "";
  $("caption").dataset.at = caption.at;
}

function atEnd() {
  const lesson = studio.session.lesson;
  if (!lesson) return;
  lessonStop(studio.T, studio.T);
  if (studio.act + 1 < lesson.acts.length) {
    $("continue").textContent = `Next: the same seed against ${lesson.acts[studio.act + 1].design}`;
    $("continue").hidden = false;
    studio.waiting = true;
  } else {
    $("lesson-status").textContent = "Lesson complete";
    $("lesson-status").dataset.done = "true";
  }
}

function showAct(index) {
  const lesson = studio.session.lesson;
  studio.act = index;
  studio.panes.forEach((pane, i) => { pane.el.hidden = i !== lesson.acts[index].pane; });
  $("lesson-act").textContent = `Act ${index + 1} of ${lesson.acts.length}: ${lesson.acts[index].design}`;
  seek(0);
  drawStrip();
}

function goOn() {
  $("continue").hidden = true;
  studio.waiting = false;
  const lesson = studio.session.lesson;
  if (studio.T >= end() && studio.act + 1 < lesson.acts.length) showAct(studio.act + 1);
  setPlaying(true);
}

async function startLesson() {
  studio.session = await api("/api/session");
  const lesson = studio.session.lesson;
  if (!lesson.ready) { setTimeout(startLesson, 500); return; }
  $("lesson").hidden = false;
  $("lesson-title").textContent = lesson.title;
  $("lesson-pattern").textContent = `Failure pattern: ${lesson.pattern} · watching ${lesson.watch}`;
  showAct(0);
  setPlaying(true);
}
