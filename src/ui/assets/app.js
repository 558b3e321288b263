// Shared client code of the operator pages (served as /assets/app.js by every page).

/** fetch with the page's CSRF token: use it for every request that changes something. */
window.csrfFetch = (input, init = {}) => {
  const headers = new Headers(init.headers);
  headers.set('x-csrf-token', document.querySelector('meta[name="csrf-token"]').content);
  return fetch(input, { ...init, headers });
};
