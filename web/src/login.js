// The staff pages' token dialog (the viewer's and the dashboard's #login): asks until `probe`
// (a request that needs the token) succeeds; the token is kept for the browser session.
import { setToken, token } from "./api.js";
import { t } from "./i18n.js";

const $ = (selector) => document.querySelector(selector);

/** `probe()`'s answer, once a token it accepts is given. */
export async function login(probe) {
  const dialog = $("#login");
  const error = $("#login-error");
  for (;;) {
    if (token()) {
      try {
        return await probe();
      } catch (e) {
        if (e.status !== 401 && e.status !== 404) throw e;
        setToken(null);
        error.hidden = false;
        error.textContent = t("loginFailed");
      }
    }
    dialog.showModal();
    await new Promise((resolve) => $("#login-form").addEventListener("submit", resolve, { once: true }));
    setToken($("#login-token").value.trim());
  }
}
