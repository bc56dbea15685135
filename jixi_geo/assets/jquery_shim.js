/*
 * jixi_geo offline pages do not load jQuery. folium's own templates call it in
 * two ways only: $(document).ready(fn) (objects kept in front) and $(html)[0]
 * (folium.Popup content). This stand-in (own code, part of jixi_geo) provides
 * exactly those; any other use fails loudly.
 */
(function () {
  "use strict";
  if (window.jQuery) {
    return;
  }
  function ready(fn) {
    if (document.readyState === "loading") {
      document.addEventListener("DOMContentLoaded", fn);
    } else {
      setTimeout(fn, 0);
    }
  }
  function wrap(nodes) {
    nodes.ready = function (fn) {
      ready(fn);
      return nodes;
    };
    return nodes;
  }
  function $(arg) {
    if (typeof arg === "function") {
      ready(arg);
      return wrap([document]);
    }
    if (typeof arg === "string") {
      var text = arg.trim();
      if (text.charAt(0) !== "<") {
        throw new Error("jixi_geo jQuery stand-in: selectors are not supported: " + text.slice(0, 40));
      }
      var template = document.createElement("template");
      template.innerHTML = text;
      return wrap(Array.prototype.slice.call(template.content.children));
    }
    return wrap([arg]);
  }
  $.ajax = function (url) {
    throw new Error("jixi_geo offline page: $.ajax(" + url + ") is not available; embed the data instead");
  };
  window.$ = window.jQuery = $;
})();
