// Two maps in one place: the right-hand one over the left-hand one, clipped (CSS clip-path) to the
// right of a divider that is dragged (mouse, touch, pen) or moved with the arrow keys; the two
// maps move together. Written here rather than taken from @maplibre/maplibre-gl-compare, whose
// 0.5.0 needs Node's `events` module in the bundle, clips with the deprecated CSS `clip` and
// listens to mouse and touch events only.

/** Keep `a` and `b` on the same view: a move of one jumps the other there (a flight of one is
 * not cut short: the follower's own move events are ignored while it follows). */
export function syncMaps(a, b) {
  let following = false;
  const follow = (from, to) => () => {
    if (following) return;
    following = true;
    to.jumpTo({ center: from.getCenter(), zoom: from.getZoom(), bearing: from.getBearing(), pitch: from.getPitch() });
    following = false;
  };
  const moveA = follow(a, b);
  const moveB = follow(b, a);
  a.on("move", moveA);
  b.on("move", moveB);
  return () => {
    a.off("move", moveA);
    b.off("move", moveB);
  };
}

const KEY_STEP = 24; // pixels an arrow key moves the divider

export class Swipe {
  /** `view`: the element holding both maps' containers; `right`: the right-hand map's container;
   * `divider`: the handle; `start`: where the divider starts, as a share of the view's width. */
  constructor(view, right, divider, start = 0.5) {
    this.view = view;
    this.right = right;
    this.divider = divider;
    this.share = start;
    this.enabled = true;
    divider.addEventListener("pointerdown", (event) => {
      if (!this.enabled) return;
      event.preventDefault();
      divider.setPointerCapture(event.pointerId);
      divider.classList.add("dragging");
    });
    divider.addEventListener("pointermove", (event) => {
      if (!divider.hasPointerCapture(event.pointerId)) return;
      const box = this.view.getBoundingClientRect();
      this.moveTo((event.clientX - box.left) / box.width);
    });
    const release = (event) => {
      if (divider.hasPointerCapture(event.pointerId)) divider.releasePointerCapture(event.pointerId);
      divider.classList.remove("dragging");
    };
    divider.addEventListener("pointerup", release);
    divider.addEventListener("pointercancel", release);
    divider.addEventListener("keydown", (event) => {
      const step = { ArrowLeft: -KEY_STEP, ArrowRight: KEY_STEP }[event.key];
      if (!step) return;
      event.preventDefault();
      this.moveTo(this.share + step / this.view.getBoundingClientRect().width);
    });
    this.observer = new ResizeObserver(() => this.moveTo(this.share));
    this.observer.observe(view);
    this.moveTo(start);
  }

  /** Put the divider at `share` (0 … 1) of the view's width. */
  moveTo(share) {
    this.share = Math.min(1, Math.max(0, share));
    const x = Math.round(this.share * this.view.getBoundingClientRect().width);
    this.divider.style.left = `${x}px`;
    this.divider.setAttribute("aria-valuenow", String(Math.round(this.share * 100)));
    this.right.style.clipPath = this.enabled ? `inset(0 0 0 ${x}px)` : "";
  }

  /** Swipe (true) or side by side without a divider (false: the stacked phone layout). */
  enable(on) {
    this.enabled = on;
    this.divider.hidden = !on;
    this.moveTo(this.share);
  }

  remove() {
    this.observer.disconnect();
    this.right.style.clipPath = "";
  }
}
