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

/** The blob: URL of the uploaded file on show: one at a time, the previous one revoked. */
export class UploadUrl {
  constructor() {
    this.current = null;
  }

  /** Revokes the blob: URL of the last uploaded file, once nothing shows it any more. */
  release() {
    if (this.current) URL.revokeObjectURL(this.current);
    this.current = null;
  }

  /** A new blob: URL for `file`, in place of the last one. */
  urlFor(file) {
    this.release();
    this.current = URL.createObjectURL(file);
    return this.current;
  }
}

/** Shows the image file in `image` (its URL from `upload`, an UploadUrl) and resolves once it is decoded. */
export async function showImage(file, image, upload) {
  image.src = upload.urlFor(file);
  try {
    await image.decode();
  } catch (error) {
    throw new PageError(`Could not open ${file.name} as an image: this browser cannot decode it.`, { cause: error });
  }
  if (!image.naturalWidth || !image.naturalHeight) {
    throw new PageError(`Could not open ${file.name} as an image: it has no pixels.`);
  }
}

/** Plays the video file in `video`, muted and looping, and resolves once it is playing. */
export async function playVideoFile(file, video, upload) {
  video.srcObject = null;
  video.muted = true;
  video.loop = true;
  video.src = upload.urlFor(file);
  try {
    await waitForData(video);
    await video.play();
  } catch (error) {
    throw new PageError(`Could not play ${file.name}: this browser cannot decode this video format.`, { cause: error });
  }
}

/** Resolves when the video has a decoded frame (readyState >= HAVE_CURRENT_DATA). */
export function waitForData(video) {
  if (video.readyState >= HTMLMediaElement.HAVE_CURRENT_DATA) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const done = (event) => {
      video.removeEventListener('loadeddata', done);
      video.removeEventListener('error', done);
      if (event.type === 'error') reject(video.error ?? new Error('the video could not be loaded'));
      else resolve();
    };
    video.addEventListener('loadeddata', done);
    video.addEventListener('error', done);
  });
}
