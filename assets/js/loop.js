// Drives per-frame work from a playing video: requestVideoFrameCallback where the browser has it
// (called once per new decoded frame), requestAnimationFrame otherwise. The next callback is only
// requested after the work for the previous frame has finished, so two inferences never overlap
// and a slow model simply skips frames instead of queueing them.

const HAVE_CURRENT_DATA = 2;

/**
 * @param {HTMLVideoElement} video  playing, or about to play
 * @param {() => Promise<void>} onFrame  work for the current frame
 * @param {(error: unknown) => void} onError  called once; the loop stops after an error
 * @returns {() => void} stop
 */
export function runVideoLoop(video, onFrame, onError) {
  const frameCallbacks = typeof video.requestVideoFrameCallback === 'function';
  let stopped = false;
  let handle = null;
  let lastTime = -1;

  const schedule = () => {
    if (stopped) return;
    handle = frameCallbacks ? video.requestVideoFrameCallback(tick) : requestAnimationFrame(tick);
  };

  const tick = async (_now, metadata) => {
    handle = null;
    if (stopped) return;
    // Without frame callbacks, a frame counts as new when the media time moved; with them, every
    // callback is a new frame. Either way the video must have decoded one.
    const time = metadata?.mediaTime ?? video.currentTime;
    const fresh = frameCallbacks || time !== lastTime;
    if (fresh && video.readyState >= HAVE_CURRENT_DATA && video.videoWidth > 0) {
      lastTime = time;
      try {
        await onFrame();
      } catch (error) {
        stopped = true;
        onError(error);
        return;
      }
    }
    schedule();
  };

  schedule();
  return () => {
    stopped = true;
    if (handle === null) return;
    if (frameCallbacks) video.cancelVideoFrameCallback(handle);
    else cancelAnimationFrame(handle);
    handle = null;
  };
}
