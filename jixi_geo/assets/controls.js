/*
 * jixi_geo map controls (own code, part of jixi_geo): full screen, measure,
 * legend, notes and the feature binding used by jixi_geo.maps.
 *
 * Everything user-visible is bilingual (中文 + English). Text from data is put
 * into the page with textContent, never innerHTML, except the tooltip and popup
 * HTML that jixi_geo.maps builds in Python with every value HTML-escaped.
 *
 * Needs only Leaflet (window.L); loads nothing from the network.
 */
(function (L) {
  "use strict";
  if (!L) {
    return;
  }
  var jixi = (L.jixi = L.jixi || {});
  var DEG = Math.PI / 180;

  function make(tag, className, parent, text) {
    var node = L.DomUtil.create(tag, className || "", parent);
    if (text !== undefined && text !== null) {
      node.textContent = String(text);
    }
    return node;
  }

  // Icons as inline SVG paths (24 x 24 grid), so no icon font or emoji font is needed.
  var ICONS = {
    fullscreen: "M4 9V4h5M15 4h5v5M20 15v5h-5M9 20H4v-5",
    ruler: "M3 16.5 16.5 3 21 7.5 7.5 21zM7 12.5l2 2M10 9.5l2 2M13 6.5l2 2",
    clear: "M6 6l12 12M18 6 6 18",
  };
  var SVG_NS = "http://www.w3.org/2000/svg"; // a namespace name, never fetched

  function icon(parent, name) {
    var svg = document.createElementNS(SVG_NS, "svg");
    svg.setAttribute("viewBox", "0 0 24 24");
    svg.setAttribute("width", "18");
    svg.setAttribute("height", "18");
    svg.setAttribute("aria-hidden", "true");
    svg.setAttribute("class", "jx-icon");
    var path = document.createElementNS(SVG_NS, "path");
    path.setAttribute("d", ICONS[name]);
    svg.appendChild(path);
    parent.appendChild(svg);
    return svg;
  }

  function button(parent, className, iconName, label) {
    var a = make("a", className, parent);
    icon(a, iconName);
    a.href = "#";
    a.title = label;
    a.setAttribute("role", "button");
    a.setAttribute("aria-label", label);
    return a;
  }

  // ------------------------------------------------------------------ geometry

  /** Earth radius used by Leaflet's LatLng.distanceTo (metres). */
  jixi.EARTH_RADIUS_M = (L.CRS && L.CRS.Earth && L.CRS.Earth.R) || 6371000;

  /** Length of a path through the points, in metres (haversine, Leaflet's distanceTo). */
  jixi.pathLength = function (latlngs) {
    var total = 0;
    for (var i = 1; i < latlngs.length; i++) {
      total += L.latLng(latlngs[i - 1]).distanceTo(L.latLng(latlngs[i]));
    }
    return total;
  };

  /**
   * Area of the polygon through the points, in square metres, on a sphere of
   * radius EARTH_RADIUS_M. Uses the line-integral formula for spherical
   * polygons (Chamberlain and Duquette, "Some algorithms for polygons on a
   * sphere", JPL 2007): A = |sum (lon2 - lon1)(2 + sin lat1 + sin lat2)| R^2 / 2.
   */
  jixi.polygonArea = function (latlngs) {
    var n = latlngs.length;
    if (n < 3) {
      return 0;
    }
    var sum = 0;
    for (var i = 0; i < n; i++) {
      var p1 = L.latLng(latlngs[i]);
      var p2 = L.latLng(latlngs[(i + 1) % n]);
      sum += (p2.lng - p1.lng) * DEG * (2 + Math.sin(p1.lat * DEG) + Math.sin(p2.lat * DEG));
    }
    var r = jixi.EARTH_RADIUS_M;
    return Math.abs((sum * r * r) / 2);
  };

  function fixed(x, digits) {
    return x.toLocaleString("en-US", {
      minimumFractionDigits: digits,
      maximumFractionDigits: digits,
    });
  }

  /** "12.35 km" (three decimals below 10 km). */
  jixi.formatKm = function (metres) {
    var km = metres / 1000;
    return fixed(km, km < 10 ? 3 : 2) + " km";
  };

  /** "1.234 km² (123.4 ha)". */
  jixi.formatArea = function (m2) {
    var km2 = m2 / 1e6;
    return fixed(km2, km2 < 10 ? 3 : 2) + " km² (" + fixed(m2 / 1e4, 1) + " ha)";
  };

  // ----------------------------------------------------------- feature binding

  /**
   * onEachFeature for jixi_geo GeoJSON layers: bilingual tooltip and popup from
   * the pre-escaped HTML in properties._tip / properties._popup, and a thicker
   * outline on hover.
   */
  jixi.bindFeature = function (feature, layer) {
    var p = (feature && feature.properties) || {};
    if (p._tip) {
      layer.bindTooltip(p._tip, { sticky: true, className: "jx-tooltip", direction: "top" });
      // one feature tooltip at a time, even if a mouseout was missed while the map moved
      layer.on("tooltipopen", function () {
        var last = jixi._tipLayer;
        if (last && last !== layer && typeof last.closeTooltip === "function") {
          last.closeTooltip();
        }
        jixi._tipLayer = layer;
      });
    }
    if (p._popup) {
      layer.bindPopup(p._popup, { maxWidth: 420, className: "jx-popup" });
    }
    layer.on("mouseover", function () {
      if (typeof layer.setStyle !== "function") {
        return;
      }
      if (layer._jxWeight === undefined) {
        layer._jxWeight = layer.options.weight;
      }
      layer.setStyle({ weight: (layer._jxWeight || 1) + 2 });
    });
    layer.on("mouseout", function () {
      if (typeof layer.setStyle === "function" && layer._jxWeight !== undefined) {
        layer.setStyle({ weight: layer._jxWeight });
      }
    });
  };

  // -------------------------------------------------- registry, labels by zoom

  /** Features with a properties._key, by key: {layer, group} (the site search finds them here). */
  jixi._features = {};
  /** Zoom-dependent labels: [{marker, group, minZoom}]. */
  jixi._labels = [];

  /**
   * After a jixi_geo GeoJSON layer is made: record its keyed features and make a
   * label (a DivIcon whose text is set with textContent) for each feature with
   * properties._label at properties._labelAt, shown from zoom _labelZoom on.
   */
  jixi.registerFeatures = function (geo, group) {
    geo.eachLayer(function (layer) {
      var p = (layer.feature && layer.feature.properties) || {};
      if (p._key !== undefined && p._key !== null) {
        jixi._features[p._key] = { layer: layer, group: group };
      }
      if (p._label && p._labelAt) {
        var text = document.createElement("span");
        text.className = "jx-label-text";
        text.textContent = String(p._label);
        var marker = L.marker(p._labelAt, {
          icon: L.divIcon({ className: "jx-label jx-label-" + (p._labelKind || "x"), html: text, iconSize: null }),
          interactive: false,
          keyboard: false,
        });
        jixi._labels.push({ marker: marker, group: group, minZoom: p._labelZoom || 0 });
      }
    });
  };

  /** Show each label at or past its zoom, hide it below (labels live in their features' group). */
  jixi.updateLabels = function (map) {
    var zoom = map.getZoom();
    for (var i = 0; i < jixi._labels.length; i++) {
      var item = jixi._labels[i];
      var show = zoom >= item.minZoom;
      if (show && !item.group.hasLayer(item.marker)) {
        item.group.addLayer(item.marker);
      } else if (!show && item.group.hasLayer(item.marker)) {
        item.group.removeLayer(item.marker);
      }
    }
  };

  /** A layer-control sortFunction listing layers by name in the given order ({name: rank}). */
  jixi.sortByName = function (rank) {
    return function (layerA, layerB, nameA, nameB) {
      var a = rank.hasOwnProperty(nameA) ? rank[nameA] : 1e9;
      var b = rank.hasOwnProperty(nameB) ? rank[nameB] : 1e9;
      return a - b;
    };
  };

  // ---------------------------------------------------------------- full screen

  jixi.Fullscreen = L.Control.extend({
    options: {
      position: "topleft",
      title: "全屏显示 Full screen",
      titleExit: "退出全屏 Exit full screen",
    },

    onAdd: function (map) {
      var bar = make("div", "leaflet-bar jx-fullscreen");
      this._button = button(bar, "jx-fullscreen-button", "fullscreen", this.options.title);
      L.DomEvent.disableClickPropagation(bar);
      L.DomEvent.on(
        this._button,
        "click",
        function (e) {
          L.DomEvent.preventDefault(e);
          this.toggle();
        },
        this
      );
      this._onChange = L.bind(this._changed, this);
      document.addEventListener("fullscreenchange", this._onChange);
      return bar;
    },

    onRemove: function () {
      document.removeEventListener("fullscreenchange", this._onChange);
    },

    isFullscreen: function () {
      return !!this._map && document.fullscreenElement === this._map.getContainer();
    },

    toggle: function () {
      var container = this._map.getContainer();
      var result;
      if (this.isFullscreen()) {
        result = document.exitFullscreen();
      } else if (container.requestFullscreen) {
        result = container.requestFullscreen();
      } else {
        console.warn("jixi_geo: this browser has no Fullscreen API / 浏览器不支持全屏");
        return;
      }
      if (result && typeof result.catch === "function") {
        result.catch(function (err) {
          console.warn("jixi_geo: full screen refused / 全屏请求被拒绝: " + err);
        });
      }
    },

    _changed: function () {
      var on = this.isFullscreen();
      var container = this._map.getContainer();
      if (on) {
        L.DomUtil.addClass(container, "jx-is-fullscreen");
      } else {
        L.DomUtil.removeClass(container, "jx-is-fullscreen");
      }
      var label = on ? this.options.titleExit : this.options.title;
      this._button.title = label;
      this._button.setAttribute("aria-label", label);
      this._map.invalidateSize();
    },
  });

  // -------------------------------------------------------------------- measure

  jixi.Measure = L.Control.extend({
    options: {
      position: "topleft",
      color: "#d6006f",
      title: "测量距离与面积 Measure distance and area",
      titleClear: "清除测量 Clear measurement",
      hint: "单击地图添加点；再次单击尺子结束。 Click the map to add points; click the ruler again to stop.",
    },

    onAdd: function (map) {
      var container = make("div", "jx-measure");
      var bar = make("div", "leaflet-bar", container);
      this._toggleButton = button(bar, "jx-measure-toggle", "ruler", this.options.title);
      this._clearButton = button(bar, "jx-measure-clear", "clear", this.options.titleClear);
      this._panel = make("div", "jx-measure-panel", container);
      this._panel.style.display = "none";
      this._hint = make("div", "jx-measure-hint", this._panel, this.options.hint);
      this._distanceText = make("div", "jx-measure-distance", this._panel);
      this._areaText = make("div", "jx-measure-area", this._panel);
      this._points = [];
      this._active = false;
      this._layer = L.layerGroup().addTo(map);
      L.DomEvent.disableClickPropagation(container);
      L.DomEvent.disableScrollPropagation(container);
      L.DomEvent.on(this._toggleButton, "click", this._onToggle, this);
      L.DomEvent.on(this._clearButton, "click", this._onClear, this);
      this._update();
      return container;
    },

    onRemove: function (map) {
      this.stop();
      map.removeLayer(this._layer);
    },

    _onToggle: function (e) {
      L.DomEvent.preventDefault(e);
      if (this._active) {
        this.stop();
      } else {
        this.start();
      }
    },

    _onClear: function (e) {
      L.DomEvent.preventDefault(e);
      this.clear();
    },

    start: function () {
      if (this._active) {
        return;
      }
      this._active = true;
      this._dblclick = this._map.doubleClickZoom.enabled();
      this._map.doubleClickZoom.disable();
      this._map.on("click", this._onMapClick, this);
      L.DomUtil.addClass(this._map.getContainer(), "jx-measuring");
      L.DomUtil.addClass(this._toggleButton, "jx-active");
      this._panel.style.display = "";
    },

    stop: function () {
      if (!this._active) {
        return;
      }
      this._active = false;
      this._map.off("click", this._onMapClick, this);
      if (this._dblclick) {
        this._map.doubleClickZoom.enable();
      }
      L.DomUtil.removeClass(this._map.getContainer(), "jx-measuring");
      L.DomUtil.removeClass(this._toggleButton, "jx-active");
    },

    clear: function () {
      this._points = [];
      this._layer.clearLayers();
      this._update();
    },

    /** The current measurement: {points, distance_m, area_m2}. */
    result: function () {
      return {
        points: this._points.length,
        distance_m: jixi.pathLength(this._points),
        area_m2: jixi.polygonArea(this._points),
      };
    },

    _onMapClick: function (e) {
      this._map.closePopup();
      this._points.push(e.latlng);
      this._redraw();
      this._update();
    },

    _redraw: function () {
      var pts = this._points;
      var color = this.options.color;
      this._layer.clearLayers();
      if (pts.length >= 3) {
        L.polygon(pts, {
          color: color, weight: 1, dashArray: "4 4", fillOpacity: 0.12, interactive: false,
          className: "jx-measure-shape",
        }).addTo(this._layer);
      }
      if (pts.length >= 2) {
        L.polyline(pts, { color: color, weight: 3, interactive: false, className: "jx-measure-shape" })
          .addTo(this._layer);
      }
      for (var i = 0; i < pts.length; i++) {
        L.circleMarker(pts[i], {
          radius: 4, color: color, weight: 2, fillColor: "#fff", fillOpacity: 1, interactive: false,
          className: "jx-measure-shape",
        }).addTo(this._layer);
      }
    },

    _update: function () {
      var r = this.result();
      this._panel.setAttribute("data-points", String(r.points));
      this._panel.setAttribute("data-distance-m", r.distance_m.toFixed(1));
      this._panel.setAttribute("data-area-m2", r.area_m2.toFixed(1));
      this._distanceText.textContent =
        "距离 Distance: " + (r.points >= 2 ? jixi.formatKm(r.distance_m) : "—");
      this._areaText.textContent =
        "面积 Area: " + (r.points >= 3 ? jixi.formatArea(r.area_m2) : "— (≥ 3 点 points)");
    },
  });

  // --------------------------------------------------------------------- legend

  /**
   * Legend. options.sections: [{title, items: [{label, color, fill, shape,
   * fillOpacity, dashArray}]}]; shape is "fill", "line" or "point".
   * options.notes: list of strings shown under the items.
   */
  jixi.Legend = L.Control.extend({
    options: { position: "bottomright", title: "图例 Legend", sections: [], notes: [] },

    onAdd: function () {
      var box = make("div", "jx-legend");
      var head = make("div", "jx-legend-title", box, this.options.title);
      head.title = "单击折叠/展开 Click to collapse / expand";
      var body = make("div", "jx-legend-body", box);
      L.DomEvent.on(head, "click", function () {
        body.style.display = body.style.display === "none" ? "" : "none";
      });
      var sections = this.options.sections || [];
      for (var s = 0; s < sections.length; s++) {
        var section = sections[s];
        if (section.title) {
          make("div", "jx-legend-section", body, section.title);
        }
        var items = section.items || [];
        for (var i = 0; i < items.length; i++) {
          this._item(body, items[i]);
        }
      }
      var notes = this.options.notes || [];
      for (var n = 0; n < notes.length; n++) {
        make("div", "jx-legend-note", body, notes[n]);
      }
      L.DomEvent.disableClickPropagation(box);
      L.DomEvent.disableScrollPropagation(box);
      return box;
    },

    _item: function (parent, item) {
      var row = make("div", "jx-legend-item", parent);
      var swatch = make("span", "jx-swatch jx-swatch-" + (item.shape || "fill"), row);
      var color = item.color || "#666";
      if (item.shape === "line") {
        swatch.style.borderTopColor = color;
        if (item.dashArray) {
          swatch.style.borderTopStyle = "dashed";
        }
      } else {
        swatch.style.borderColor = color;
        var inner = make("span", "jx-swatch-inner", swatch);
        inner.style.backgroundColor = item.fill || color;
        inner.style.opacity = String(item.fillOpacity === undefined ? 0.6 : Math.max(item.fillOpacity, 0.15));
      }
      make("span", "jx-legend-label", row, item.label);
    },
  });

  // --------------------------------------------------------------------- search

  /**
   * Site search: type to filter the sites (name, id, verdict), click one (or press
   * Enter for the first) to zoom to it and open its popup. options.items:
   * [{key, name, id, verdict, color}]; every text is set with textContent.
   */
  jixi.Search = L.Control.extend({
    options: {
      position: "topleft",
      items: [],
      maxShown: 50,
      placeholder: "搜索项目 Search sites",
    },

    onAdd: function (map) {
      var box = make("div", "jx-search leaflet-bar");
      this._input = make("input", "jx-search-input", box);
      this._input.type = "search";
      this._input.placeholder = this.options.placeholder;
      this._input.setAttribute("aria-label", this.options.placeholder);
      this._count = make("div", "jx-search-count", box);
      this._list = make("ul", "jx-search-list", box);
      L.DomEvent.disableClickPropagation(box);
      L.DomEvent.disableScrollPropagation(box);
      L.DomEvent.on(this._input, "input", this._filter, this);
      L.DomEvent.on(this._input, "keydown", function (e) {
        if (e.key === "Enter" && this._shown.length) {
          L.DomEvent.preventDefault(e);
          this.select(this._shown[0]);
        } else if (e.key === "Escape") {
          this._input.value = "";
          this._filter();
        }
      }, this);
      this._shown = [];
      this._filter();
      return box;
    },

    /** The items whose name, id or verdict contains the query (case-insensitive). */
    matches: function (query) {
      var q = String(query || "").trim().toLowerCase();
      var items = this.options.items || [];
      if (!q) {
        return [];
      }
      return items.filter(function (it) {
        return [it.name, it.id, it.verdict].join(" ").toLowerCase().indexOf(q) >= 0;
      });
    },

    _filter: function () {
      var found = this.matches(this._input.value);
      this._shown = found.slice(0, this.options.maxShown);
      this._list.textContent = "";
      for (var i = 0; i < this._shown.length; i++) {
        this._row(this._shown[i]);
      }
      var q = this._input.value.trim();
      this._count.textContent = q
        ? found.length + " / " + (this.options.items || []).length +
          (found.length > this._shown.length ? "（显示前 " + this._shown.length + " 个 first " + this._shown.length + " shown）" : "")
        : "";
      this._count.style.display = q ? "" : "none";
      this._list.style.display = this._shown.length ? "" : "none";
      if (this._map) {
        this._map.fire("jx-layout");
      }
    },

    _row: function (item) {
      var li = make("li", "jx-search-item", this._list);
      var dot = make("span", "jx-search-dot", li);
      dot.style.backgroundColor = item.color || "#999";
      make("span", "jx-search-name", li, item.name);
      make("span", "jx-search-sub", li, item.id + " · " + item.verdict);
      li.setAttribute("data-key", item.key);
      L.DomEvent.on(li, "click", function (e) {
        L.DomEvent.preventDefault(e);
        this.select(item);
      }, this);
    },

    /** Zoom to the item's feature (showing its group if hidden) and open its popup. */
    select: function (item) {
      var ref = jixi._features[item.key];
      var map = this._map;
      if (!ref || !map) {
        return false;
      }
      if (ref.group && !map.hasLayer(ref.group)) {
        map.addLayer(ref.group);
      }
      var layer = ref.layer;
      if (layer.getLatLng) {
        map.setView(layer.getLatLng(), Math.max(map.getZoom(), 13), { animate: false });
      } else {
        map.fitBounds(layer.getBounds(), { maxZoom: 15, padding: [40, 40], animate: false });
      }
      layer.openPopup();
      return true;
    },
  });

  // ---------------------------------------------------------------------- notes

  /** A small text box; options.lines: list of strings; options.className. */
  jixi.Note = L.Control.extend({
    options: { position: "bottomleft", lines: [], className: "" },

    onAdd: function () {
      var box = make("div", "jx-note " + (this.options.className || ""));
      var lines = this.options.lines || [];
      for (var i = 0; i < lines.length; i++) {
        make("div", "jx-note-line", box, lines[i]);
      }
      L.DomEvent.disableClickPropagation(box);
      return box;
    },
  });

  // ---------------------------------------------------------------------- setup

  /**
   * Add the jixi_geo controls to a map. cfg: {title, legend: {title, sections,
   * notes}, notes: [strings], warnings: [strings], fullscreen: bool,
   * measure: bool}.
   */
  jixi.setup = function (map, cfg) {
    cfg = cfg || {};
    var added = {};
    var narrow = map.getContainer().clientWidth < 600;
    if (cfg.title || cfg.stamp) {
      var title = make("div", "jx-title", map.getContainer());
      make("div", "jx-title-text", title, cfg.title || "");
      if (cfg.stamp) {
        // the same stamp on every map drawn from schematic layers (precision.csv)
        added.stamp = make("div", "jx-stamp", title, cfg.stamp.join(" / "));
      }
      L.DomUtil.addClass(map.getContainer(), "jx-has-title");
      L.DomEvent.disableClickPropagation(title);
      added.title = title;
    }
    if (cfg.fullscreen !== false) {
      added.fullscreen = new jixi.Fullscreen().addTo(map);
    }
    if (cfg.measure !== false) {
      added.measure = new jixi.Measure().addTo(map);
    }
    if (cfg.search) {
      added.search = new jixi.Search({ items: cfg.search }).addTo(map);
    }
    if (cfg.legend) {
      added.legend = new jixi.Legend(cfg.legend).addTo(map);
      if (narrow) {
        added.legend.getContainer().querySelector(".jx-legend-body").style.display = "none";
      }
    }
    if (cfg.warnings && cfg.warnings.length) {
      added.warnings = new jixi.Note({
        position: "bottomleft", lines: cfg.warnings, className: "jx-note-warning",
      }).addTo(map);
    }
    if (cfg.notes && cfg.notes.length) {
      added.notes = new jixi.Note({ position: "bottomleft", lines: cfg.notes }).addTo(map);
    }
    map._jixiControls = added;
    if (narrow) {
      jixi.collapseLayers(map);
    }
    var layout = function () {
      jixi.layoutTop(map);
    };
    map.on("resize jx-layout", layout);
    window.addEventListener("resize", layout);
    layout();
    map.on("zoomend", function () {
      jixi.updateLabels(map);
    });
    jixi.updateLabels(map);
    return added;
  };

  function overlaps(a, b) {
    return a.left < b.right && b.left < a.right && a.top < b.bottom && b.top < a.bottom;
  }

  /**
   * Keep the top corners' controls clear of the title: a corner whose box would meet
   * the title's is moved down below it (on a phone the title spans the width).
   */
  jixi.layoutTop = function (map) {
    var title = map._jixiControls && map._jixiControls.title;
    var corners = map._controlCorners || {};
    var box = map.getContainer().getBoundingClientRect();
    ["topleft", "topright"].forEach(function (key) {
      var corner = corners[key];
      if (!corner) {
        return;
      }
      corner.style.top = "";
      if (!title) {
        return;
      }
      var t = title.getBoundingClientRect();
      var controls = corner.children;
      for (var i = 0; i < controls.length; i++) {
        if (overlaps(controls[i].getBoundingClientRect(), t)) {
          corner.style.top = Math.ceil(t.bottom - box.top + 2) + "px";
          return;
        }
      }
    });
  };

  /** On a narrow screen: the layer list folds into its button (tap it to open, tap the map to close). */
  jixi.collapseLayers = function (map) {
    var box = map.getContainer().querySelector(".leaflet-control-layers");
    if (!box) {
      return;
    }
    L.DomUtil.removeClass(box, "leaflet-control-layers-expanded");
    var link = box.querySelector(".leaflet-control-layers-toggle");
    if (link) {
      link.title = "图层 Layers";
      L.DomEvent.on(link, "click", function (e) {
        L.DomEvent.preventDefault(e);
        L.DomUtil.addClass(box, "leaflet-control-layers-expanded");
        map.fire("jx-layout");
      });
    }
    map.on("click", function () {
      L.DomUtil.removeClass(box, "leaflet-control-layers-expanded");
      map.fire("jx-layout");
    });
  };
})(window.L);
