// "Save snapshot": the picture on show at its own resolution (not the screen's), with the last
// detections drawn on it as the overlay draws them, downloaded as a PNG. The snapshot is never
// mirrored: it is the frame as the camera or file gave it, which is what the detections describe.

import { drawDetections } from './renderer.js';

/**
 * @param {CanvasImageSource} element  the video or image on show
 * @param {number} width   the picture's natural width
 * @param {number} height  the picture's natural height
 * @param {object[]} detections  what the page shows (boxes normalised to the picture)
 * @param {{labels?: boolean}} [options]
 * @returns {HTMLCanvasElement}
 */
export function snapshotCanvas(element, width, height, detections, { labels = true } = {}) {
  const canvas = document.createElement('canvas');
  canvas.width = width;
  canvas.height = height;
  const context = canvas.getContext('2d');
  context.drawImage(element, 0, 0, width, height);
  // Sized to the picture, as the overlay's tags are to the screen: legible on a 4K frame and a
  // 320 px one alike.
  const fontSize = Math.round(Math.max(12, Math.min(64, width / 40)));
  const lineWidth = Math.max(2, width / 320);
  drawDetections(context, detections, { x: 0, y: 0, width, height }, { fontSize, labels, lineWidth });
  return canvas;
}

/** "detector-2026-12-03-141502.png": sortable, and safe on every file system. */
export function snapshotFileName(prefix, date = new Date()) {
  const pad = (n) => String(n).padStart(2, '0');
  const stamp = `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}-${pad(date.getHours())}${pad(date.getMinutes())}${pad(date.getSeconds())}`;
  const safe = String(prefix).toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '').slice(0, 40);
  return `${safe || 'snapshot'}-${stamp}.png`;
}

/** Encodes `canvas` as PNG and hands it to the browser as a download named `fileName`. */
export async function downloadCanvas(canvas, fileName) {
  const blob = await new Promise((resolve, reject) => {
    canvas.toBlob((result) => (result ? resolve(result) : reject(new Error('the picture could not be encoded'))), 'image/png');
  });
  const url = URL.createObjectURL(blob);
  const link = document.createElement('a');
  link.href = url;
  link.download = fileName;
  link.hidden = true;
  document.body.append(link);
  link.click();
  link.remove();
  // The download has its own copy once it started; a minute is ample.
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
}
