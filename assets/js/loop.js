// Drives per-frame work from a playing video: requestVideoFrameCallback where the browser has it
// (called once per new decoded frame), requestAnimationFrame otherwise. Work for one frame at a
// time: two inferences never overlap, and a slow model skips frames instead of queueing them.

const HAVE_CURRENT_DATA = 2;

/**
 * @param {HTMLVideoElement} video  playing, or about to play
 * @param {() => Promise<void>} onFrame  work for the current frame
 * @param {(error: unknown) => void} onError  called once; the loop stops after an error
 * @returns {() => void} stop
 */
export function runVideoLoop(video, onFrame, onError) {
  return typeof video.requestVideoFrameCallback === 'function'
    ? runOnPresentedFrames(video, onFrame, onError)
    : runOnAnimationFrames(video, onFrame, onError);
}

// Every presented frame is counted as it arrives (a cheap callback), and the work always takes the
// newest: when a frame's work ends after the next frame arrived, that frame is worked on at once.
// Waiting for the callback after it instead would halve the frame rate of a model only a little
// slower than the camera (34 ms of work on a 30 fps camera: 15 fps instead of 29).
function runOnPresentedFrames(video, onFrame, onError) {
  const state = { stopped: false, handle: null, latest: 0, done: 0, busy: false };
  const work = async () => {
    state.busy = true;
    while (!state.stopped && state.latest > state.done && video.readyState >= HAVE_CURRENT_DATA && video.videoWidth > 0) {
      state.done = state.latest;
      try {
        await onFrame();
      } catch (error) {
        state.stopped = true;
        onError(error);
      }
    }
    state.busy = false;
  };
  const presented = (_now, metadata) => {
    if (state.stopped) return;
    state.latest = Math.max(state.latest + 1, metadata?.presentedFrames ?? 0);
    state.handle = video.requestVideoFrameCallback(presented);
    if (!state.busy) work();
  };
  state.handle = video.requestVideoFrameCallback(presented);
  return () => {
    state.stopped = true;
    if (state.handle !== null) video.cancelVideoFrameCallback(state.handle);
    state.handle = null;
  };
}

// Without frame callbacks, a frame counts as new when the media time moved.
function runOnAnimationFrames(video, onFrame, onError) {
  let stopped = false;
  let handle = null;
  let lastTime = -1;
  const tick = async () => {
    handle = null;
    if (stopped) return;
    const time = video.currentTime;
    if (time !== lastTime && video.readyState >= HAVE_CURRENT_DATA && video.videoWidth > 0) {
      lastTime = time;
      try {
        await onFrame();
      } catch (error) {
        stopped = true;
        onError(error);
        return;
      }
    }
    if (!stopped) handle = requestAnimationFrame(tick);
  };
  handle = requestAnimationFrame(tick);
  return () => {
    stopped = true;
    if (handle !== null) cancelAnimationFrame(handle);
    handle = null;
  };
}
