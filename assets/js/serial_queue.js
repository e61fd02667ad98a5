// One inference at a time, across every source: a task waits for the one before it.

/** Runs tasks one at a time, in the order given; a task that fails does not stop those after it. */
export class SerialQueue {
  constructor() {
    this.tail = Promise.resolve();
  }

  /** @returns {Promise} what `task` returns, once every task queued before it has settled */
  run(task) {
    const run = this.tail.then(task);
    this.tail = run.catch(() => {});
    return run;
  }
}
