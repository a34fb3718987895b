// A local stand-in for Shopify's App Bridge, served only in the demo, where
// the admin page runs outside Shopify's admin and the CDN script cannot load.
// It exposes the part of the global `shopify` the page uses: config,
// idToken() (a real session token minted by the simulator) and toast.show().
(function () {
  'use strict';
  var script = document.currentScript;
  var origin = (script && script.getAttribute('data-simulator-origin')) || '';
  var query = new URLSearchParams(window.location.search);
  var shop = query.get('shop') || '';
  var meta = document.querySelector('meta[name="shopify-api-key"]');

  // Session tokens live a minute; reuse one until shortly before it expires,
  // as App Bridge does, and share a request already in flight.
  var cached = null;
  var pending = null;

  function expiry(token) {
    try {
      var part = token.split('.')[1].replace(/-/g, '+').replace(/_/g, '/');
      var claims = JSON.parse(atob(part + '==='.slice((part.length + 3) % 4)));
      return typeof claims.exp === 'number' ? claims.exp * 1000 : 0;
    } catch (e) {
      return 0;
    }
  }

  function idToken() {
    if (cached && cached.expiresAt - Date.now() > 15000) return Promise.resolve(cached.token);
    if (pending) return pending;
    if (!shop) return Promise.reject(new Error('App Bridge stand-in: the page URL has no ?shop= parameter.'));
    var url = origin.replace(/\/+$/, '') + '/simulator/session-token?shop=' + encodeURIComponent(shop);
    pending = fetch(url, {cache: 'no-store', credentials: 'omit'})
      .then(function (res) {
        if (!res.ok) throw new Error('App Bridge stand-in: the simulator refused a session token (HTTP ' + res.status + ').');
        return res.json();
      })
      .then(function (body) {
        if (!body || typeof body.token !== 'string') throw new Error('App Bridge stand-in: no token in the simulator answer.');
        cached = {token: body.token, expiresAt: expiry(body.token)};
        return body.token;
      })
      .finally(function () {
        pending = null;
      });
    return pending;
  }

  var toastRegion = null;
  var toastSeq = 0;

  function region() {
    if (toastRegion && toastRegion.isConnected) return toastRegion;
    toastRegion = document.createElement('div');
    toastRegion.setAttribute('role', 'status');
    toastRegion.setAttribute('aria-live', 'polite');
    toastRegion.setAttribute('data-app-bridge-standin', 'toast');
    toastRegion.style.cssText =
      'position:fixed;left:50%;bottom:24px;transform:translateX(-50%);z-index:2147483647;display:flex;' +
      'flex-direction:column;gap:8px;align-items:center;pointer-events:none;font:14px/1.4 system-ui,sans-serif';
    document.body.appendChild(toastRegion);
    return toastRegion;
  }

  function show(message, options) {
    var opts = options || {};
    var id = 'standin-toast-' + ++toastSeq;
    var el = document.createElement('div');
    el.id = id;
    el.textContent = String(message);
    el.style.cssText =
      'padding:10px 16px;border-radius:8px;color:#fff;box-shadow:0 4px 12px rgba(0,0,0,.2);background:' +
      (opts.isError ? '#8e1f0b' : '#303030');
    region().appendChild(el);
    setTimeout(function () {
      el.remove();
    }, typeof opts.duration === 'number' ? opts.duration : 5000);
    return id;
  }

  function hide(id) {
    var el = document.getElementById(id);
    if (el) el.remove();
  }

  window.shopify = {
    config: {
      apiKey: meta ? meta.getAttribute('content') || '' : '',
      shop: shop,
      host: query.get('host') || '',
      locale: query.get('locale') || navigator.language || 'en',
    },
    environment: {embedded: false, mobile: false, pos: false},
    idToken: idToken,
    toast: {show: show, hide: hide},
    loading: function () {},
  };
})();
