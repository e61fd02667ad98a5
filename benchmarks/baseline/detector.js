// The baseline detector loop, as the popular blog tutorial's React app runs it: the global `tf` from
// tf.min.js, WebGL forced, the camera and the model loaded together, and for every frame
// fromPixels(video) at the video's own size -> expandDims -> executeAsync fetching every output of
// the plainly converted SavedModel -> .array() on every output -> draw the boxes -> dispose. No
// warm-up: the first frame pays for shader compilation, as it does in the tutorial.
//
// It reports what the benchmark measures through the same hooks as a sitegen page: a
// `sitegen:detections` CustomEvent per frame (detail.inferenceMs, detail.backend, ...) and
// `window.sitegen.state` / `.backend` / `.memory()`. inferenceMs spans fromPixels to the last
// output's values being in JavaScript, the same span as the sitegen page's (frame in, detections
// out), without drawing.
//
// baseline.json (written by the benchmark) names the signature keys of the outputs the boxes are
// drawn from, since the converter calls several of them Identity_N:0; the tutorial hard-codes
// their positions instead.

/* global tf */
'use strict';

(() => {
  const BACKEND = 'webgl';
  const THRESHOLD = 0.5;

  const video = document.getElementById('video');
  const overlay = document.getElementById('overlay');
  const status = document.getElementById('status');

  let state = 'loading';
  let frame = 0;

  window.sitegen = {
    get state() {
      return state;
    },
    get backend() {
      return typeof tf === 'object' ? tf.getBackend() : null;
    },
    memory: () => (typeof tf === 'object' ? tf.memory() : null),
  };

  function fail(error) {
    state = 'error';
    const message = String(error?.message ?? error);
    status.textContent = `Error: ${message}`;
    window.dispatchEvent(new CustomEvent('sitegen:error', { detail: { message } }));
  }

  async function openCamera() {
    const stream = await navigator.mediaDevices.getUserMedia({ audio: false, video: { facingMode: 'user' } });
    video.srcObject = stream;
    await new Promise((resolve) => {
      video.onloadedmetadata = resolve;
    });
    await video.play();
  }

  async function loadSettings() {
    const response = await fetch('baseline.json');
    if (!response.ok) throw new Error(`baseline.json returned HTTP ${response.status}`);
    return response.json();
  }

  // Positions of the drawn outputs among model.outputNodes (the order executeAsync returns them in).
  function outputPositions(model, outputs) {
    const positions = {};
    for (const [role, key] of Object.entries(outputs)) {
      const at = model.outputNodes.indexOf(key);
      if (at < 0) throw new Error(`the model has no output ${key} (it has ${model.outputNodes.join(', ')})`);
      positions[role] = at;
    }
    return positions;
  }

  function readDetections(values, positions, labels) {
    const boxes = values[positions.boxes][0];
    const scores = values[positions.scores][0];
    const classes = values[positions.classes][0];
    const count = Math.round(values[positions.count][0]);
    const detections = [];
    for (let i = 0; i < count; i += 1) {
      if (scores[i] < THRESHOLD) continue;
      const [ymin, xmin, ymax, xmax] = boxes[i];
      const classId = Math.round(classes[i]);
      detections.push({
        label: labels[classId] ?? String(classId),
        classId,
        score: scores[i],
        box: { x: xmin, y: ymin, width: xmax - xmin, height: ymax - ymin },
      });
    }
    return detections;
  }

  function draw(detections, width, height) {
    if (overlay.width !== width) overlay.width = width;
    if (overlay.height !== height) overlay.height = height;
    const context = overlay.getContext('2d');
    context.clearRect(0, 0, width, height);
    context.lineWidth = 2;
    context.strokeStyle = '#00ffff';
    context.fillStyle = '#00ffff';
    context.font = '16px sans-serif';
    for (const { label, score, box } of detections) {
      context.strokeRect(box.x * width, box.y * height, box.width * width, box.height * height);
      context.fillText(`${label} ${score.toFixed(2)}`, box.x * width, box.y * height - 4);
    }
  }

  async function detectFrame(model, positions, labels) {
    const width = video.videoWidth;
    const height = video.videoHeight;
    const started = performance.now();
    const input = tf.tidy(() => tf.browser.fromPixels(video).expandDims(0));
    const predictions = await model.executeAsync(input);
    const values = await Promise.all(predictions.map((tensor) => tensor.array()));
    const inferenceMs = performance.now() - started;
    tf.dispose([input, ...predictions]);

    const detections = readDetections(values, positions, labels);
    draw(detections, width, height);
    frame += 1;
    window.dispatchEvent(new CustomEvent('sitegen:detections', {
      detail: { source: 'camera', frame, width, height, backend: tf.getBackend(), inferenceMs, detections },
    }));
    requestAnimationFrame(() => detectFrame(model, positions, labels).catch(fail));
  }

  async function main() {
    if (!(await tf.setBackend(BACKEND))) throw new Error(`the ${BACKEND} backend could not start`);
    await tf.ready();
    const settings = await loadSettings();
    const [model] = await Promise.all([tf.loadGraphModel('model/model.json'), openCamera()]);
    const positions = outputPositions(model, settings.outputs);
    state = 'running';
    status.textContent = `Running on ${tf.getBackend()}.`;
    await detectFrame(model, positions, settings.labels ?? {});
  }

  main().catch(fail);
})();
