// Files given to the page without the file picker: dragged onto the picture, or pasted (a
// screenshot copied to the clipboard, an image copied from another page or a file manager).

/** The first file among a DataTransfer's files, or null. */
export function firstFile(dataTransfer) {
  const files = dataTransfer?.files;
  return files && files.length ? files[0] : null;
}

/**
 * Calls `open(file)` for a file dropped on `target` or pasted anywhere in `page`, and marks
 * `target` with the class `dragging` while a file is held over it.
 *
 * @param {HTMLElement} target  the drop zone (the picture)
 * @param {Document} page
 * @param {(file: File) => void} open
 */
export function acceptDroppedFiles(target, page, open) {
  const holdsFiles = (event) => Array.from(event.dataTransfer?.types ?? []).includes('Files');
  const leave = () => target.classList.remove('dragging');
  target.addEventListener('dragover', (event) => {
    if (!holdsFiles(event)) return;
    event.preventDefault(); // without it the browser opens the file itself, leaving the site
    event.dataTransfer.dropEffect = 'copy';
    target.classList.add('dragging');
  });
  target.addEventListener('dragleave', leave);
  target.addEventListener('drop', (event) => {
    leave();
    const file = firstFile(event.dataTransfer);
    if (!file) return;
    event.preventDefault();
    open(file);
  });
  page.addEventListener('paste', (event) => {
    // Text pasted into a form field stays text.
    if (event.target instanceof HTMLInputElement || event.target instanceof HTMLTextAreaElement) return;
    const file = firstFile(event.clipboardData);
    if (!file) return;
    event.preventDefault();
    open(file);
  });
}
