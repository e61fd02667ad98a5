// The one canvas every frame goes through on its way to the model. For SSD models the source is
// drawn stretched to the model's input size (no letterbox), which matches what the model's own
// fixed-shape resizer does; for YOLO models it is letterboxed the way Ultralytics' predict does it
// (scaled to fit, centred, grey padding). Reusing one canvas avoids a per-frame allocation. Tests
// read its pixels to run the same input through TensorFlow, so it is exposed as
// window.sitegen.inputCanvas.

/** Python's round(): half to even, as Ultralytics' letterbox arithmetic rounds. */
export function roundHalfEven(value) {
  const floor = Math.floor(value);
  const rounded = value - floor !== 0.5 ? Math.round(value) : floor + Math.abs(floor % 2);
  return rounded + 0; // a whole number of pixels: -0 (Math.round(-0.1)) is 0
}

/**
 * Where a frame lies in a letterboxed input: Ultralytics' LetterBox (where it is drawn) and
 * scale_boxes (how boxes map back; its padding can differ from LetterBox's by a pixel).
 *
 * @param {number} frameWidth
 * @param {number} frameHeight
 * @param {[number, number]} inputSize  [height, width]
 */
export function letterboxPlacement(frameWidth, frameHeight, [inputHeight, inputWidth]) {
  const gain = Math.min(inputHeight / frameHeight, inputWidth / frameWidth);
  const width = roundHalfEven(frameWidth * gain);
  const height = roundHalfEven(frameHeight * gain);
  return {
    gain,
    width,
    height,
    left: roundHalfEven((inputWidth - width) / 2 - 0.1),
    top: roundHalfEven((inputHeight - height) / 2 - 0.1),
    mapLeft: roundHalfEven((inputWidth - frameWidth * gain) / 2 - 0.1),
    mapTop: roundHalfEven((inputHeight - frameHeight * gain) / 2 - 0.1),
  };
}

/**
 * Candidates with coordinates as fractions of the letterboxed input, mapped to fractions of the
 * frame (Ultralytics' scale_boxes, then clipped to the frame as its clip_boxes does).
 */
export function candidatesInFrame(candidates, placement, frameWidth, frameHeight, [inputHeight, inputWidth]) {
  const clip = (v) => Math.max(0, Math.min(1, v));
  const x = (v) => clip((v * inputWidth - placement.mapLeft) / placement.gain / frameWidth);
  const y = (v) => clip((v * inputHeight - placement.mapTop) / placement.gain / frameHeight);
  return candidates.map((c) => ({ ...c, xmin: x(c.xmin), xmax: x(c.xmax), ymin: y(c.ymin), ymax: y(c.ymax) }));
}

export class FrameInput {
  /** The input config.model asks for: letterboxed for a YOLO model, else stretched. */
  static forModel(modelConfig) {
    const { yolo } = modelConfig;
    return new FrameInput(modelConfig.input.size ?? null, yolo ? { padValue: yolo.padValue } : null);
  }

  /**
   * @param {[number, number] | null} size  [height, width], or null to keep each frame's own size
   * @param {{padValue: number} | null} letterbox  letterbox with this grey (YOLO), or stretch
   */
  constructor(size, letterbox = null) {
    this.size = size;
    this.letterbox = size ? letterbox : null;
    this.placement = null; // the last frame's, when letterboxed
    this.frameSize = null;
    this.canvas = document.createElement('canvas');
    this.canvas.width = size ? size[1] : 1;
    this.canvas.height = size ? size[0] : 1;
    // The CPU-side backends (wasm, cpu) read the pixels back with getImageData every frame.
    this.context = this.canvas.getContext('2d', { alpha: false, willReadFrequently: true });
  }

  /**
   * @param {CanvasImageSource} source  video or image element
   * @param {number} width   the source's natural width
   * @param {number} height  the source's natural height
   */
  draw(source, width, height) {
    const targetWidth = this.size ? this.size[1] : width;
    const targetHeight = this.size ? this.size[0] : height;
    // Assigning a size clears the canvas and resets its state, so only when it changes.
    if (this.canvas.width !== targetWidth) this.canvas.width = targetWidth;
    if (this.canvas.height !== targetHeight) this.canvas.height = targetHeight;
    this.frameSize = [width, height];
    if (!this.letterbox) {
      this.context.drawImage(source, 0, 0, targetWidth, targetHeight);
      return;
    }
    const placement = letterboxPlacement(width, height, this.size);
    const grey = this.letterbox.padValue;
    this.context.fillStyle = `rgb(${grey}, ${grey}, ${grey})`;
    this.context.fillRect(0, 0, targetWidth, targetHeight);
    this.context.drawImage(source, placement.left, placement.top, placement.width, placement.height);
    this.placement = placement;
  }

  /**
   * A frame's candidates in frame fractions (stretched inputs already are). The placement and
   * size are the frame's own, taken before the model ran: another frame may be drawn meanwhile.
   */
  toFrame(candidates, placement = this.placement, [width, height] = this.frameSize ?? [1, 1]) {
    if (!this.letterbox || !placement) return candidates;
    return candidatesInFrame(candidates, placement, width, height, this.size);
  }
}
