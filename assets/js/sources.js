// Uploaded images and videos. They are shown from blob: URLs (never uploaded anywhere) and the
// previous URL is revoked when the next source replaces it.

import { PageError } from './errors.js';

export function fileKind(file) {
  if (file.type.startsWith('image/')) return 'image';
  if (file.type.startsWith('video/')) return 'video';
  // Some systems report no type: fall back on the extension.
  if (/\.(jpe?g|png|gif|webp|avif|bmp)$/i.test(file.name)) return 'image';
  if (/\.(mp4|webm|mov|m4v|ogv)$/i.test(file.name)) return 'video';
  return null;
}

// Larger pictures are refused rather than half-handled: phones cannot allocate canvases that big,
// and a snapshot at source resolution would fail there.
export const MAX_IMAGE_MEGAPIXELS = 40;
const MAX_IMAGE_BYTES = 100e6;
// A video that has not shown a frame by then is not going to.
const VIDEO_PROBE_MS = 15_000;

/** The blob: URL of the uploaded file on show, and those being tried: each revoked once unused. */
export class UploadUrl {
  constructor() {
    this.current = null;
  }

  /** A new blob: URL for `file`; the one on show stays until adopt(). */
  create(file) {
    return URL.createObjectURL(file);
  }

  /** `url` is now on show: the previous one is revoked. */
  adopt(url) {
    if (this.current && this.current !== url) URL.revokeObjectURL(this.current);
    this.current = url;
  }

  /** `url` was tried and not shown. */
  discard(url) {
    if (url !== this.current) URL.revokeObjectURL(url);
  }

  /** Revokes the blob: URL of the file on show, once nothing shows it any more. */
  release() {
    if (this.current) URL.revokeObjectURL(this.current);
    this.current = null;
  }
}

/** Refuses an empty file before anything tries to decode it. */
function checkNotEmpty(file) {
  if (file.size === 0) throw new PageError(`${file.name} is empty (0 bytes). Choose another file.`);
}

/**
 * Decodes the image file off-screen and checks it, so a file that cannot be shown leaves the
 * picture on show as it was. Resolves to its blob: URL (from `upload`, an UploadUrl).
 */
export async function probeImage(file, upload) {
  checkNotEmpty(file);
  if (file.size > MAX_IMAGE_BYTES) {
    throw new PageError(`${file.name} is ${Math.round(file.size / 1e6)} MB: images up to ${MAX_IMAGE_BYTES / 1e6} MB can be opened. Resize it, then upload it again.`);
  }
  const url = upload.create(file);
  const probe = new Image();
  probe.src = url;
  try {
    await probe.decode();
  } catch (error) {
    upload.discard(url);
    throw new PageError(`Could not open ${file.name} as an image: this browser cannot decode it. Use a JPEG, PNG or WebP image.`, { cause: error });
  }
  const megapixels = (probe.naturalWidth * probe.naturalHeight) / 1e6;
  if (!megapixels) {
    upload.discard(url);
    throw new PageError(`Could not open ${file.name} as an image: it has no pixels.`);
  }
  if (megapixels > MAX_IMAGE_MEGAPIXELS) {
    upload.discard(url);
    throw new PageError(`${file.name} is ${probe.naturalWidth}x${probe.naturalHeight} (${megapixels.toFixed(0)} megapixels): images up to ${MAX_IMAGE_MEGAPIXELS} megapixels can be opened. Resize it, then upload it again.`);
  }
  return url;
}

/** Shows the probed image `url` in `image` and resolves once it is decoded there. */
export async function showImage(url, image) {
  image.src = url;
  await image.decode();
}

/**
 * Loads the video file in a detached element until it has a frame, so a codec this browser cannot
 * play, or a file with no picture, leaves the source on show as it was. Resolves to its blob: URL.
 */
export async function probeVideo(file, upload) {
  checkNotEmpty(file);
  const url = upload.create(file);
  const probe = document.createElement('video');
  probe.muted = true;
  probe.preload = 'auto';
  probe.src = url;
  try {
    await waitForData(probe, VIDEO_PROBE_MS);
    if (!probe.videoWidth || !probe.videoHeight) throw new PageError(`Could not play ${file.name}: it has no picture (an audio file?). Choose a video.`);
    return url;
  } catch (error) {
    upload.discard(url);
    if (error instanceof PageError) throw error;
    throw new PageError(`Could not play ${file.name}: this browser cannot decode this video format. Use an MP4 (H.264) or WebM (VP8/VP9) video.`, { cause: error });
  } finally {
    probe.removeAttribute('src');
    probe.load();
  }
}

/** Plays the probed video `url` in `video`, muted and looping, and resolves once it is playing. */
export async function playVideo(url, video) {
  video.srcObject = null;
  video.muted = true;
  video.loop = true;
  video.src = url;
  await waitForData(video);
  await video.play();
}

/** Resolves when the video has a decoded frame (readyState >= HAVE_CURRENT_DATA). */
export function waitForData(video, timeoutMs = 0) {
  if (video.readyState >= HTMLMediaElement.HAVE_CURRENT_DATA) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const timer = timeoutMs ? setTimeout(() => done({ type: 'timeout' }), timeoutMs) : null;
    const done = (event) => {
      clearTimeout(timer);
      video.removeEventListener('loadeddata', done);
      video.removeEventListener('error', done);
      if (event.type === 'loadeddata') resolve();
      else reject(video.error ?? new Error('the video could not be loaded'));
    };
    video.addEventListener('loadeddata', done);
    video.addEventListener('error', done);
  });
}
