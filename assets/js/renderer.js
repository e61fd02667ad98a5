// Draws detection boxes on a canvas laid over the video or image. The media element letterboxes
// its picture (object-fit: contain), so boxes are mapped into the picture's content rectangle, not
// the element's box; the canvas is sized in device pixels so lines stay sharp on high-DPI screens,
// and a ResizeObserver redraws the last boxes whenever the layout changes.

// Bright colours, each readable with black text and visible on most scenes thanks to a dark
// outline drawn under every box. Class n gets PALETTE[n - 1]; classes past the palette get hues a
// golden angle apart at the same lightness, so every class keeps its own colour.
const PALETTE = ['#00e5ff', '#ffd60a', '#ff4fd8', '#9ef01a', '#ff8c00', '#b9a6ff', '#ffffff', '#ff6b6b'];
const OUTLINE = 'rgba(0, 0, 0, 0.8)';
const LABEL_TEXT = '#000000';
const GOLDEN_ANGLE = 137.508;

export function colourFor(classId) {
  const index = Math.round(classId) - 1;
  if (index >= 0 && index < PALETTE.length) return PALETTE[index];
  const hue = (((index * GOLDEN_ANGLE) % 360) + 360) % 360;
  return `hsl(${hue.toFixed(1)}, 95%, 62%)`;
}

/** "kangaroo 87%": what the overlay and the detection list say about a detection. */
export function describeDetection(detection) {
  return `${detection.label} ${Math.round(detection.score * 100)}%`;
}

/**
 * Where a picture of naturalWidth x naturalHeight lands inside a box of boxWidth x boxHeight with
 * object-fit: contain (scaled to fit, centred).
 */
export function containRect(boxWidth, boxHeight, naturalWidth, naturalHeight) {
  if (!(naturalWidth > 0 && naturalHeight > 0 && boxWidth > 0 && boxHeight > 0)) {
    return { x: 0, y: 0, width: 0, height: 0 };
  }
  const scale = Math.min(boxWidth / naturalWidth, boxHeight / naturalHeight);
  const width = naturalWidth * scale;
  const height = naturalHeight * scale;
  return { x: (boxWidth - width) / 2, y: (boxHeight - height) / 2, width, height };
}

export class Overlay {
  /** @param {HTMLCanvasElement} canvas  positioned over the media elements, same box as their container */
  constructor(canvas) {
    this.canvas = canvas;
    this.context = canvas.getContext('2d');
    this.scene = null; // {media, detections, naturalWidth, naturalHeight}: what to draw
    this.mirrored = false;
    this.labels = true;
    this.drawn = { content: { x: 0, y: 0, width: 0, height: 0 }, boxes: [] }; // canvas-relative CSS px
    if (typeof ResizeObserver === 'function') {
      this.resizeObserver = new ResizeObserver(() => this.redraw());
      this.resizeObserver.observe(canvas);
    }
    // Zooming changes devicePixelRatio without always resizing the canvas's CSS box.
    window.addEventListener('resize', () => this.redraw());
  }

  /**
   * @param {HTMLVideoElement|HTMLImageElement} media  the element showing the picture
   * @param {{label: string, classId: number, score: number, box: {x: number, y: number, width: number, height: number}}[]} detections
   */
  show(media, detections, naturalWidth, naturalHeight) {
    this.scene = { media, detections, naturalWidth, naturalHeight };
    this.redraw();
  }

  clear() {
    this.scene = null;
    this.redraw();
  }

  redraw() {
    const { canvas, context } = this;
    const cssWidth = canvas.clientWidth;
    const cssHeight = canvas.clientHeight;
    const ratio = window.devicePixelRatio || 1;
    const pixelWidth = Math.max(1, Math.round(cssWidth * ratio));
    const pixelHeight = Math.max(1, Math.round(cssHeight * ratio));
    if (canvas.width !== pixelWidth) canvas.width = pixelWidth;
    if (canvas.height !== pixelHeight) canvas.height = pixelHeight;
    context.setTransform(1, 0, 0, 1, 0, 0);
    context.clearRect(0, 0, canvas.width, canvas.height);
    this.drawn = { content: { x: 0, y: 0, width: 0, height: 0 }, boxes: [] };
    if (!this.scene || cssWidth === 0 || cssHeight === 0) return;

    // Draw in CSS pixels; the transform maps them to device pixels.
    context.setTransform(pixelWidth / cssWidth, 0, 0, pixelHeight / cssHeight, 0, 0);
    const content = this.contentRect();
    this.drawn.content = content;
    const fontSize = Math.round(Math.max(12, Math.min(16, content.width / 40)));
    this.drawn.boxes = drawDetections(context, this.scene.detections, content, {
      fontSize, mirrored: this.mirrored, labels: this.labels,
    });
  }

  /** A front camera is shown mirrored (a selfie view): its boxes are drawn mirrored with it. */
  setMirrored(mirrored) {
    if (this.mirrored === mirrored) return;
    this.mirrored = mirrored;
    this.redraw();
  }

  /** Whether boxes carry their "label score" tag. */
  setLabels(shown) {
    if (this.labels === shown) return;
    this.labels = shown;
    this.redraw();
  }

  // The picture's rectangle relative to the canvas, in CSS pixels.
  contentRect() {
    const { media, naturalWidth, naturalHeight } = this.scene;
    const mediaBox = media.getBoundingClientRect();
    const canvasBox = this.canvas.getBoundingClientRect();
    const inner = containRect(mediaBox.width, mediaBox.height, naturalWidth, naturalHeight);
    return {
      x: mediaBox.left - canvasBox.left + inner.x,
      y: mediaBox.top - canvasBox.top + inner.y,
      width: inner.width,
      height: inner.height,
    };
  }

  /**
   * The boxes last drawn, in viewport CSS pixels (like getBoundingClientRect), and the picture's
   * content rectangle: {content: {x, y, width, height}, boxes: [{label, score, x, y, width, height}]}.
   */
  snapshot() {
    const origin = this.canvas.getBoundingClientRect();
    const shift = (rect) => ({ ...rect, x: rect.x + origin.left, y: rect.y + origin.top });
    return { content: shift(this.drawn.content), boxes: this.drawn.boxes.map(shift) };
  }
}

/**
 * Draws detections (boxes normalised to the picture) onto `context` inside `content`, the
 * picture's rectangle in the context's units. Each box gets a dark outline under its colour, so it
 * shows on light and dark pictures alike, and its label a filled tag with black text, kept inside
 * the picture. Labels are drawn with fillText: always text, never markup.
 *
 * @param {{fontSize: number, mirrored?: boolean, labels?: boolean, lineWidth?: number}} options
 * @returns {{label: string, score: number, x: number, y: number, width: number, height: number}[]} the boxes drawn
 */
export function drawDetections(context, detections, content, { fontSize, mirrored = false, labels = true, lineWidth = 2.5 }) {
  context.font = `600 ${fontSize}px system-ui, -apple-system, "Segoe UI", Roboto, sans-serif`;
  context.textBaseline = 'top';
  context.lineJoin = 'round';
  const drawn = [];
  for (const detection of detections) {
    const left = mirrored ? 1 - detection.box.x - detection.box.width : detection.box.x;
    const box = {
      x: content.x + left * content.width,
      y: content.y + detection.box.y * content.height,
      width: detection.box.width * content.width,
      height: detection.box.height * content.height,
    };
    const colour = colourFor(detection.classId);
    context.strokeStyle = OUTLINE;
    context.lineWidth = lineWidth * 2;
    context.strokeRect(box.x, box.y, box.width, box.height);
    context.strokeStyle = colour;
    context.lineWidth = lineWidth;
    context.strokeRect(box.x, box.y, box.width, box.height);
    if (labels) drawLabel(context, describeDetection(detection), box, content, colour, fontSize);
    drawn.push({ label: detection.label, score: detection.score, ...box });
  }
  return drawn;
}

// The tag sits above the box, or inside its top edge when there is no room above, and is shifted
// to stay inside the picture on every side.
function drawLabel(context, text, box, content, colour, fontSize) {
  const padding = Math.round(fontSize / 4);
  const width = context.measureText(text).width + 2 * padding;
  const height = fontSize + 2 * padding;
  const x = clamp(box.x - context.lineWidth / 2, content.x, content.x + content.width - width);
  const above = box.y - height;
  const y = clamp(above >= content.y ? above : box.y, content.y, content.y + content.height - height);
  context.fillStyle = OUTLINE;
  context.fillRect(x - 1, y - 1, width + 2, height + 2);
  context.fillStyle = colour;
  context.fillRect(x, y, width, height);
  context.fillStyle = LABEL_TEXT;
  context.fillText(text, x + padding, y + padding);
}

// Clamps to [low, high]; a tag wider than the picture starts at its left edge.
function clamp(value, low, high) {
  return Math.max(low, Math.min(value, high));
}
