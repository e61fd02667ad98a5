// The camera: opening and closing a stream, listing cameras, and saying in plain words why a
// camera could not be opened.

import { PageError } from './errors.js';

export const MESSAGES = {
  insecure: 'The camera only works on a secure page: open this site over https:// (or on http://localhost). You can still upload an image or video.',
  refused: 'Camera access was refused. Allow camera access for this site in your browser settings, then press Start camera again.',
  notFound: 'No camera was found. Connect a camera, or upload an image or video instead.',
  busy: 'The camera could not be started: another application may be using it. Close it, then press Start camera again.',
};

export function cameraAvailable() {
  return typeof navigator === 'object' && Boolean(navigator.mediaDevices?.getUserMedia);
}

/** Translates a getUserMedia failure into a PageError with a message for the user. */
export function cameraError(error) {
  switch (error?.name) {
    case 'NotAllowedError':
    case 'PermissionDeniedError':
    case 'SecurityError':
      return new PageError(MESSAGES.refused, { cause: error });
    case 'NotFoundError':
    case 'DevicesNotFoundError':
    case 'OverconstrainedError':
      return new PageError(MESSAGES.notFound, { cause: error });
    case 'NotReadableError':
    case 'TrackStartError':
    case 'AbortError':
      return new PageError(MESSAGES.busy, { cause: error });
    default:
      return new PageError(`The camera could not be started (${error?.message || error?.name || error}).`, { cause: error });
  }
}

/**
 * The camera resolution to ask for: about twice the model's input on its long side (boxes stay
 * sharp after the resize, and small objects keep some pixels), at least 640x480 and at most
 * 1920x1440, in 4:3. A model that takes each frame at its own size gets 640x480: more pixels would
 * only make every inference slower.
 *
 * @param {[number, number] | null} inputSize  the model's [height, width], or null
 * @returns {[number, number]} [width, height]
 */
export function cameraResolution(inputSize) {
  if (!inputSize) return [640, 480];
  const longSide = Math.min(1920, Math.max(640, 2 * Math.max(...inputSize)));
  const width = Math.round(longSide / 32) * 32;
  return [width, Math.round((width * 3) / 4)];
}

/**
 * Opens a camera: the one with `deviceId` if given, else one facing `facing` ('environment', the
 * back camera, or 'user', the front one) where the device has it, at `resolution`.
 *
 * @param {{deviceId?: string, facing?: string, resolution?: [number, number]}} choice
 */
export async function openCamera({ deviceId = '', facing = 'environment', resolution = [640, 480] } = {}) {
  if (!window.isSecureContext || !cameraAvailable()) throw new PageError(MESSAGES.insecure);
  const [width, height] = resolution;
  const video = { width: { ideal: width }, height: { ideal: height } };
  if (deviceId) video.deviceId = { exact: deviceId };
  else video.facingMode = { ideal: facing };
  try {
    return await navigator.mediaDevices.getUserMedia({ video, audio: false });
  } catch (error) {
    throw cameraError(error);
  }
}

/** Stops every track, which turns the camera (and its light) off. */
export function stopStream(stream) {
  for (const track of stream?.getTracks() ?? []) track.stop();
}

/** The deviceId of the stream's camera, if the browser says. */
export function streamDeviceId(stream) {
  const track = stream?.getVideoTracks()[0];
  return track?.getSettings?.().deviceId ?? '';
}

/**
 * Which way the stream's camera faces: 'user' (front), 'environment' (back), or '' where the
 * browser does not say (most laptop webcams and desktop browsers).
 */
export function streamFacing(stream) {
  const track = stream?.getVideoTracks()[0];
  return track?.getSettings?.().facingMode ?? '';
}

/** Video inputs as {deviceId, label}; labels are empty until the user has allowed camera access. */
export async function listCameras() {
  if (!cameraAvailable() || !navigator.mediaDevices.enumerateDevices) return [];
  try {
    const devices = await navigator.mediaDevices.enumerateDevices();
    return devices
      .filter((device) => device.kind === 'videoinput')
      .map((device, index) => ({ deviceId: device.deviceId, label: device.label || `Camera ${index + 1}` }));
  } catch {
    return [];
  }
}
