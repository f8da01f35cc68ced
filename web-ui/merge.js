// An offered drive holding postcli pieces (partial datasets made on other computers): one button
// merges them into one dataset, which the box then adopts. Progress and a refusal's reason come
// back as the drive's state and reason (the dashboard refreshes on every drives event).
import { attempt, post } from "./api.js";
import { h } from "./dom.js";

export function mergeOffer(d, err, onChange) {
  if (!d.merge_folders || !d.merge_folders.length) return null;
  const merge = h("button", { type: "button" }, "Merge these into one dataset");
  merge.addEventListener("click", () => attempt(err, merge, async () => {
    await post(`/drives/${encodeURIComponent(d.id)}/merge`);
    await onChange();
  }));
  return h("div", { class: "merge" },
    h("p", { class: "small" }, `PoST pieces in: ${d.merge_folders.join(", ")}. The box checks them `
      + "(same identity, every file there once, sample labels recomputed) before moving any file."),
    merge);
}
