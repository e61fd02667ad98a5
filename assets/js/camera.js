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
 * Opens a camera: the one with `deviceId` if given, else preferably the back camera, at about
 * 640x480 (enough for a 300-320 px model input, and cheap to draw every frame).
 */
export async function openCamera(deviceId) {
  if (!window.isSecureContext || !cameraAvailable()) throw new PageError(MESSAGES.insecure);
  const video = { facingMode: 'environment', width: { ideal: 640 }, height: { ideal: 480 } };
  if (deviceId) video.deviceId = { exact: deviceId };
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
