// Puts a source on show for the detector session: the camera, an uploaded (or dropped, or pasted)
// image or video. Each becomes the session's current source once it shows a picture, and a camera
// or video gets a frame loop that feeds the session's inference queue. A file is checked before
// it replaces what is on show, so a file that cannot be opened leaves the picture as it was.
// While the page is hidden the camera is released (its light goes off) and a video pauses; both
// come back when the page is visible again.

import { cameraResolution, listCameras, openCamera, stopStream, streamDeviceId, streamFacing } from './camera.js';
import { userMessage } from './errors.js';
import { runVideoLoop } from './loop.js';
import { fileKind, playVideo, probeImage, probeVideo, showImage } from './sources.js';

export class SourcePlayer {
  /**
   * @param {import('./session.js').DetectorSession} session
   * @param {import('./ui.js').PageUi} ui
   * @param {{cameraId?: string, facing?: string}} [camera]  the camera chosen last time
   */
  constructor(session, ui, camera = {}) {
    this.session = session;
    this.ui = ui;
    this.camera = { cameraId: camera.cameraId ?? '', facing: camera.facing ?? 'environment' };
    this.cameraCount = 0;
    // The file being opened: a later one supersedes it.
    this.opening = null;
    // What to bring back when the page is visible again: {kind: 'camera'} or {kind: 'video', source}.
    this.resumeOnVisible = null;
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

  /** Starts the camera `choice` ({cameraId, facing}), by default the one chosen last. */
  async startCamera(choice = this.camera) {
    const { session, ui } = this;
    this.camera = { ...this.camera, ...choice };
    const source = { kind: 'camera', element: ui.video, stream: null };
    session.replaceSource(source);
    this.opening = null;
    ui.setCameraRunning(true);
    ui.setStatus('Starting the camera…');
    try {
      const resolution = cameraResolution(session.config?.model?.input?.size ?? null);
      const stream = await openCamera({ deviceId: this.camera.cameraId, facing: this.camera.facing, resolution });
      if (source !== session.currentSource) {
        stopStream(stream); // stopped or replaced while the permission prompt was open
        return;
      }
      source.stream = stream;
      // A front camera is shown mirrored, as people expect of a selfie view; the events keep the
      // camera's own coordinates. Where the browser does not say, the facing asked for counts.
      const facing = streamFacing(stream) || (this.camera.cameraId ? '' : this.camera.facing);
      session.setMirrored(facing === 'user');
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

  /** Front to back or back to front (on devices with both); a camera picked in the list is forgotten. */
  switchFacing() {
    const facing = this.camera.facing === 'user' ? 'environment' : 'user';
    this.ui.cameraSelect.value = '';
    return this.startCamera({ cameraId: '', facing });
  }

  async openFile(file) {
    const { session, ui } = this;
    const kind = fileKind(file);
    if (!kind) {
      session.reportError(`${file.name} is not an image or a video. Choose an image (JPEG, PNG…) or a video (MP4, WebM…).`);
      return;
    }
    const attempt = {};
    this.opening = attempt;
    let url;
    try {
      url = kind === 'image' ? await probeImage(file, session.uploads) : await probeVideo(file, session.uploads);
    } catch (error) {
      if (attempt === this.opening) session.reportError(userMessage(error, `Could not open ${file.name}`));
      return;
    }
    if (attempt !== this.opening) {
      session.uploads.discard(url); // another file (or the camera) was chosen meanwhile
      return;
    }
    this.opening = null;
    const source = { kind, element: kind === 'image' ? ui.image : ui.video };
    session.replaceSource(source);
    session.uploads.adopt(url);
    session.setMirrored(false);
    try {
      if (kind === 'image') {
        await showImage(url, ui.image);
        if (source !== session.currentSource) return;
        ui.showMedia('image');
        ui.setStatus(session.statusFor(source));
        session.runOnce(source);
      } else {
        ui.showMedia('video');
        await playVideo(url, ui.video);
        if (source !== session.currentSource) return;
        this.startLoop(source);
        ui.setPlayback(true);
        ui.setStatus(session.statusFor(source));
      }
    } catch (error) {
      if (source !== session.currentSource) return;
      session.stopSource();
      ui.setStatus(session.idleStatus());
      session.reportError(userMessage(error, `Could not open ${file.name}`));
    }
  }

  /** Play/pause for an uploaded video. A paused frame is detected again when settings change. */
  togglePlayback() {
    const source = this.session.currentSource;
    if (source?.kind !== 'video') return;
    const { video } = this.ui;
    if (video.paused) video.play().catch((error) => this.session.detectionFailed(source, error));
    else video.pause();
  }

  /** The page was hidden: release the camera, pause a playing video. */
  pauseWhileHidden() {
    const { session, ui } = this;
    const source = session.currentSource;
    if (source?.kind === 'camera') {
      this.resumeOnVisible = { kind: 'camera' };
      session.stopSource();
      ui.setStatus('Camera paused while this page is hidden.');
    } else if (source?.kind === 'video' && !ui.video.paused) {
      this.resumeOnVisible = { kind: 'video', source };
      ui.video.pause();
    }
  }

  /** The page is visible again: bring back what pauseWhileHidden stopped, unless something replaced it. */
  resumeWhenVisible() {
    const resume = this.resumeOnVisible;
    this.resumeOnVisible = null;
    const current = this.session.currentSource;
    if (resume?.kind === 'camera' && !current) this.startCamera();
    else if (resume?.kind === 'video' && resume.source === current) this.ui.video.play().catch(() => {});
  }

  async refreshCameraList(selectedId) {
    const cameras = await listCameras();
    this.cameraCount = cameras.length;
    this.ui.setCameras(cameras, selectedId ?? (this.camera.cameraId || undefined));
    this.ui.setFacingSwitch(cameras.length >= 2, this.camera.facing);
  }
}
