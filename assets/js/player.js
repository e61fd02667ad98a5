// Puts a source on show for the detector session: the camera, an uploaded image or an uploaded
// video. Each becomes the session's current source once it shows a picture, and a camera or video
// gets a frame loop that feeds the session's inference queue.

import { listCameras, openCamera, stopStream, streamDeviceId } from './camera.js';
import { userMessage } from './errors.js';
import { runVideoLoop } from './loop.js';
import { fileKind, playVideoFile, showImage } from './sources.js';

export class SourcePlayer {
  /**
   * @param {import('./session.js').DetectorSession} session
   * @param {import('./ui.js').PageUi} ui
   */
  constructor(session, ui) {
    this.session = session;
    this.ui = ui;
  }

  /** Whether the camera is what is shown (possibly still starting). */
  get cameraOn() {
    return this.session.currentSource?.kind === 'camera';
  }

  startLoop(source) {
    const { session } = this;
    source.stopLoop = runVideoLoop(
      source.element,
      () => session.serialised(() => session.processFrame(source)),
      (error) => session.detectionFailed(source, error),
    );
  }

  async startCamera(deviceId) {
    const { session, ui } = this;
    const source = { kind: 'camera', element: ui.video, stream: null };
    session.replaceSource(source);
    ui.setCameraRunning(true);
    ui.setStatus('Starting the camera…');
    try {
      const stream = await openCamera(deviceId);
      if (source !== session.currentSource) {
        stopStream(stream); // stopped or replaced while the permission prompt was open
        return;
      }
      source.stream = stream;
      ui.video.srcObject = stream;
      ui.video.muted = true;
      ui.showMedia('video'); // visible before play: hidden videos get no frame callbacks
      await ui.video.play();
      if (source !== session.currentSource) return;
      this.startLoop(source);
      ui.setStatus(session.statusFor(source));
      this.refreshCameraList(streamDeviceId(stream)); // labels are readable now that access is granted
    } catch (error) {
      if (source !== session.currentSource) return;
      session.stopSource();
      ui.setStatus(session.idleStatus());
      session.reportError(userMessage(error, 'The camera could not be started'));
    }
  }

  stopCamera() {
    const { session } = this;
    session.stopSource();
    this.ui.setStatus(session.detector ? 'Camera off.' : session.idleStatus());
  }

  async openFile(file) {
    const { session, ui } = this;
    const kind = fileKind(file);
    if (!kind) {
      session.reportError(`${file.name} is not an image or a video. Choose an image (JPEG, PNG…) or a video (MP4, WebM…).`);
      return;
    }
    const source = { kind, element: kind === 'image' ? ui.image : ui.video };
    session.replaceSource(source);
    try {
      if (kind === 'image') {
        await showImage(file, ui.image, session.uploads);
        if (source !== session.currentSource) return;
        ui.showMedia('image');
        ui.setStatus(session.statusFor(source));
        session.runOnce(source);
      } else {
        ui.showMedia('video');
        await playVideoFile(file, ui.video, session.uploads);
        if (source !== session.currentSource) return;
        this.startLoop(source);
        ui.setStatus(session.statusFor(source));
      }
    } catch (error) {
      if (source !== session.currentSource) return;
      session.stopSource();
      ui.setStatus(session.idleStatus());
      session.reportError(userMessage(error, `Could not open ${file.name}`));
    }
  }

  async refreshCameraList(selectedId) {
    this.ui.setCameras(await listCameras(), selectedId);
  }
}
