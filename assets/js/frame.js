// The one canvas every frame goes through on its way to the model. Drawing the source stretched to
// the model's input size (no letterbox) matches what the model's own fixed-shape resizer does, and
// reusing one canvas avoids a per-frame allocation. Tests read its pixels to run the same input
// through TensorFlow, so it is exposed as window.sitegen.inputCanvas.

export class FrameInput {
  /** @param {[number, number] | null} size  [height, width], or null to keep each frame's own size */
  constructor(size) {
    this.size = size;
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
    this.context.drawImage(source, 0, 0, targetWidth, targetHeight);
  }
}
