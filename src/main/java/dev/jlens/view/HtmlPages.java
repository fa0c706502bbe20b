package dev.jlens.view;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * Self-contained HTML pages: all CSS and JavaScript inline, no network, so a page opens offline
 * and can be mailed or committed as one file.
 */
public final class HtmlPages {
    private HtmlPages() {}

    // ------------------------------------------------------------------ heatmap

    /**
     * A heatmap as a table of coloured cells with its row, column and top labels; hovering a cell
     * highlights its row and column and shows the exact value.
     */
    public static String heatmap(Heatmap h) {
        return heatmaps(List.of(h));
    }

    /** Several heatmaps, one after the other, each with its own legend (see {@link #heatmap}). */
    public static String heatmaps(List<Heatmap> panels) {
        return heatmaps(panels, null);
    }

    /** Several heatmaps and, after them, preformatted text (a dashboard's tables), all in one self-contained page. */
    public static String heatmaps(List<Heatmap> panels, String text) {
        StringBuilder b = new StringBuilder();
        for (Heatmap h : panels) b.append(table(h));
        if (text != null) b.append("<pre class=\"tok\">").append(Html.escape(text)).append("</pre>\n");
        String css = """
                table.heatmap { border-collapse: collapse; }
                table.heatmap td { min-width: 22px; height: 22px; padding: 1px 4px; text-align: center; font-size: 12px; border: 1px solid #fff; }
                table.heatmap th { font-weight: normal; font-size: 12px; padding: 1px 4px; }
                table.heatmap th.row { text-align: right; }
                table.heatmap th.top, table.heatmap th.col { writing-mode: vertical-rl; transform: rotate(180deg); text-align: left; max-height: 120px; }
                table.heatmap td.hl, table.heatmap tr.hl td { outline: 1px solid rgba(0,0,0,.35); }
                table.heatmap tr.hl th, table.heatmap th.hl { background: #ffe9a8; }
                .legend { margin-top: 10px; display: flex; align-items: center; gap: 6px; font-size: 12px; }
                .legend .bar { width: 200px; height: 12px; border: 1px solid #999; }
                """;
        String script = """
                (function () {
                  var tables = document.querySelectorAll('table.heatmap'), cells = 0;
                  tables.forEach(function (table) {
                    function clear() { table.querySelectorAll('.hl').forEach(function (e) { e.classList.remove('hl'); }); }
                    table.addEventListener('mouseover', function (ev) {
                      var td = ev.target.closest('td'); if (!td) return; clear();
                      td.parentElement.classList.add('hl');
                      var c = +td.dataset.c;
                      table.querySelectorAll('td[data-c="' + c + '"]').forEach(function (e) { e.classList.add('hl'); });
                      table.querySelectorAll('thead th, tfoot th').forEach(function (th, i) {
                        if (th.cellIndex === c + 1) th.classList.add('hl');
                      });
                    });
                    table.addEventListener('mouseleave', clear);
                    cells += table.querySelectorAll('td').length;
                  });
                  document.body.setAttribute('data-jlens-cells', String(cells));
                  document.body.setAttribute('data-jlens-ready', 'heatmap');
                })();
                """;
        String title = panels.isEmpty() || panels.get(0).title() == null ? "jlens heatmap" : panels.get(0).title();
        return Html.page(title, css, b.toString(), script);
    }

    /** One heatmap's heading, table and legend. */
    private static String table(Heatmap h) {
        StringBuilder b = new StringBuilder();
        b.append("<h1>").append(Html.escape(h.title() == null ? "" : h.title())).append("</h1>\n");
        b.append("<table class=\"heatmap\">\n");
        if (h.topLabels() != null) {
            b.append("<thead><tr><th></th>");
            for (String t : h.topLabels()) b.append("<th class=\"top tok\">").append(Html.escape(Labels.printable(t))).append("</th>");
            b.append("</tr></thead>\n");
        }
        b.append("<tbody>\n");
        for (int r = 0; r < h.rows(); r++) {
            b.append("<tr><th class=\"row tok\">").append(Html.escape(Labels.printable(h.rowLabels().get(r)))).append("</th>");
            for (int c = 0; c < h.cols(); c++) {
                double v = h.values()[r][c];
                int bg = h.scale().rgb(v);
                String text = h.text(r, c);
                String tip = Labels.printable(h.rowLabels().get(r)) + " · " + Labels.printable(h.colLabels().get(c)) + ": "
                        + h.valueName() + " " + (Double.isNaN(v) ? "—" : String.format("%.4g", v));
                b.append("<td data-c=\"").append(c).append("\" style=\"background:").append(String.format("#%06x", bg))
                        .append(";color:").append(String.format("#%06x", Palette.textOn(bg))).append("\" title=\"")
                        .append(Html.escape(tip)).append("\">")
                        .append(text == null ? "" : "<span class=\"tok\">" + Html.escape(Labels.printable(text)) + "</span>")
                        .append("</td>");
            }
            b.append("</tr>\n");
        }
        b.append("</tbody>\n<tfoot><tr><th></th>");
        for (String t : h.colLabels()) b.append("<th class=\"col tok\">").append(Html.escape(Labels.printable(t))).append("</th>");
        b.append("</tr></tfoot>\n</table>\n");
        b.append(legend(h.scale(), h.valueName()));
        return b.toString();
    }

    private static String legend(ColourScale s, String name) {
        StringBuilder grad = new StringBuilder("linear-gradient(to right");
        for (int i = 0; i <= 10; i++) grad.append(", ").append(s.palette().hex(i / 10.0));
        grad.append(')');
        return "<div class=\"legend\"><span>" + Html.escape(name) + (s.log() ? " (log scale)" : "") + "</span><span>"
                + Labels.number(s.min()) + "</span><span class=\"bar\" style=\"background:" + grad + "\"></span><span>"
                + Labels.number(s.max()) + "</span></div>\n";
    }

    // ------------------------------------------------------------------ chart

    /** A chart as an inline PNG (a data URI: the page needs no file beside it) above the chart's text. */
    public static String chart(String title, java.awt.image.BufferedImage image, String text) {
        String src = "data:image/png;base64," + java.util.Base64.getEncoder().encodeToString(PngCharts.png(image));
        String body = "<h1>" + Html.escape(title) + "</h1>\n<img class=\"chart\" alt=\"" + Html.escape(title) + "\" width=\""
                + image.getWidth() + "\" height=\"" + image.getHeight() + "\" src=\"" + src + "\">\n<pre class=\"tok\">"
                + Html.escape(text) + "</pre>\n";
        return Html.page(title, "img.chart { max-width: 100%; height: auto; }\n", body,
                "document.body.setAttribute('data-jlens-ready', 'chart');");
    }

    // ------------------------------------------------------------------ attention

    /**
     * CircuitsVis-style attention view: a grid with one small pattern per head, a token strip
     * showing, for the hovered token, where it attends (blue) and what attends to it (orange) in
     * the focused head, and a large labelled pattern of that head. Click a head to focus it; click
     * a token to pin it.
     *
     * @param title     page heading
     * @param tokens    the prompt's tokens
     * @param headNames one per head ("L1H3")
     * @param patterns  {@code [head][query][key]} attention weights (only {@code key ≤ query} is read)
     */
    public static String attention(String title, List<String> tokens, List<String> headNames, float[][][] patterns) {
        if (patterns.length != headNames.size()) {
            throw new IllegalArgumentException(patterns.length + " patterns but " + headNames.size() + " head names");
        }
        int n = tokens.size();
        StringBuilder data = new StringBuilder("{\"tokens\":").append(Json.strings(TokenText.visible(tokens)))
                .append(",\"heads\":[");
        for (int h = 0; h < patterns.length; h++) {
            if (h > 0) data.append(',');
            data.append("{\"name\":").append(Json.string(headNames.get(h))).append(",\"rows\":[");
            for (int q = 0; q < n; q++) {
                if (q > 0) data.append(',');
                data.append('[');
                // Causal: a query sees keys 0..q only, so only the lower triangle is stored.
                for (int k = 0; k <= q; k++) {
                    if (k > 0) data.append(',');
                    data.append(Json.number(patterns[h][q][k]));
                }
                data.append(']');
            }
            data.append("]}");
        }
        data.append("]}");
        String body = "<h1>" + Html.escape(title) + "</h1>\n"
                + "<p class=\"hint\">Hover a token: <span class=\"key-from\">blue</span> = where it attends, "
                + "<span class=\"key-to\">orange</span> = what attends to it, in the focused head. Click a head to focus it, "
                + "a token to pin it.</p>\n"
                + "<div id=\"heads\" class=\"grid\"></div>\n"
                + "<h2>Focused: <span id=\"focus-name\"></span></h2>\n"
                + "<div class=\"strip\"><span class=\"what\">attends to</span><div id=\"from\" class=\"tokens\"></div></div>\n"
                + "<div class=\"strip\"><span class=\"what\">attended by</span><div id=\"to\" class=\"tokens\"></div></div>\n"
                + "<div id=\"tip\" class=\"tip\"></div>\n"
                + "<canvas id=\"big\"></canvas>\n"
                + "<script type=\"application/json\" id=\"jlens-data\">" + data + "</script>\n";
        String css = """
                .grid { display: flex; flex-wrap: wrap; gap: 10px; }
                .head { border: 2px solid transparent; padding: 3px; cursor: pointer; text-align: center; font-size: 12px; }
                .head.focus { border-color: #2171b5; background: #f0f6fc; }
                .head canvas { display: block; image-rendering: pixelated; border: 1px solid #ccc; }
                .strip { display: flex; align-items: flex-start; gap: 8px; margin: 4px 0; }
                .strip .what { width: 90px; flex: none; color: #666; font-size: 12px; padding-top: 3px; }
                .tokens { display: flex; flex-wrap: wrap; gap: 2px; }
                .tokens .tok { padding: 1px 3px; border: 1px solid #ddd; border-radius: 3px; cursor: default; }
                .tokens .tok.cur { border-color: #000; font-weight: bold; }
                .key-from { color: #08519c; font-weight: bold; }
                .key-to { color: #d94801; font-weight: bold; }
                .tip { height: 18px; color: #444; font-size: 12px; margin: 6px 0; }
                #big { margin-top: 4px; }
                """;
        return Html.page(title, css, body, ATTENTION_JS);
    }

    private static final String ATTENTION_JS = """
            (function () {
              var data = JSON.parse(document.getElementById('jlens-data').textContent);
              var n = data.tokens.length, heads = data.heads;
              // Start on the last token, so the strips already show something before any hover.
              var focus = 0, hovered = n - 1, pinned = -1;
              function w(h, q, k) { return k <= q ? heads[h].rows[q][k] : 0; }
              function blue(a) { var t = Math.max(0, Math.min(1, a)); return 'rgb(' + Math.round(255 - 247 * t) + ',' + Math.round(255 - 174 * t) + ',' + Math.round(255 - 99 * t) + ')'; }
              function orange(a) { var t = Math.max(0, Math.min(1, a)); return 'rgb(' + Math.round(255 - 38 * t) + ',' + Math.round(255 - 183 * t) + ',' + Math.round(255 - 254 * t) + ')'; }
              var cell = Math.max(2, Math.min(8, Math.floor(160 / Math.max(1, n))));
              var grid = document.getElementById('heads'), panels = [];
              heads.forEach(function (head, h) {
                var div = document.createElement('div');
                div.className = 'head'; div.dataset.head = h;
                var c = document.createElement('canvas');
                c.width = c.height = n * cell;
                var label = document.createElement('div'); label.textContent = head.name;
                div.appendChild(label); div.appendChild(c); grid.appendChild(div);
                div.addEventListener('click', function () { focus = h; render(); });
                panels.push(c);
              });
              function drawSmall(h) {
                var ctx = panels[h].getContext('2d');
                ctx.fillStyle = '#fff'; ctx.fillRect(0, 0, n * cell, n * cell);
                for (var q = 0; q < n; q++) for (var k = 0; k <= q; k++) { ctx.fillStyle = blue(w(h, q, k)); ctx.fillRect(k * cell, q * cell, cell, cell); }
                var t = current();
                if (t >= 0) {
                  ctx.strokeStyle = 'rgba(217,72,1,.9)'; ctx.lineWidth = 1;
                  ctx.strokeRect(0.5, t * cell + 0.5, n * cell - 1, cell - 1);
                  ctx.strokeRect(t * cell + 0.5, 0.5, cell - 1, n * cell - 1);
                }
              }
              function current() { return pinned >= 0 ? pinned : hovered; }
              function buildStrip(id) {
                var box = document.getElementById(id);
                data.tokens.forEach(function (tok, i) {
                  var s = document.createElement('span');
                  s.className = 'tok'; s.textContent = tok; s.dataset.i = i;
                  s.addEventListener('mouseenter', function () { if (hovered !== i) { hovered = i; render(); } });
                  s.addEventListener('click', function () { pinned = pinned === i ? -1 : i; render(); });
                  box.appendChild(s);
                });
              }
              function paintStrip(id, colour, weight) {
                var t = current();
                document.getElementById(id).querySelectorAll('.tok').forEach(function (s, i) {
                  var a = t >= 0 ? weight(t, i) : 0;
                  s.style.background = t >= 0 ? colour(a) : '';
                  s.style.color = a > 0.6 ? '#fff' : '';
                  s.title = t >= 0 ? a.toFixed(3) : '';
                  s.classList.toggle('cur', i === t);
                });
              }
              buildStrip('from'); buildStrip('to');
              var big = document.getElementById('big');
              var bigCell = Math.max(6, Math.min(24, Math.floor(640 / Math.max(1, n))));
              var margin = 110;
              big.width = margin + n * bigCell + 10; big.height = margin + n * bigCell + 10;
              function drawBig() {
                var ctx = big.getContext('2d');
                ctx.fillStyle = '#fff'; ctx.fillRect(0, 0, big.width, big.height);
                for (var q = 0; q < n; q++) for (var k = 0; k <= q; k++) { ctx.fillStyle = blue(w(focus, q, k)); ctx.fillRect(margin + k * bigCell, margin + q * bigCell, bigCell, bigCell); }
                ctx.fillStyle = '#222'; ctx.font = Math.min(12, bigCell) + 'px monospace'; ctx.textBaseline = 'middle';
                for (var i = 0; i < n; i++) {
                  var label = data.tokens[i].length > 12 ? data.tokens[i].slice(0, 11) + '…' : data.tokens[i];
                  ctx.textAlign = 'right'; ctx.fillText(label, margin - 4, margin + (i + 0.5) * bigCell);
                  ctx.save(); ctx.translate(margin + (i + 0.5) * bigCell, margin - 4); ctx.rotate(-Math.PI / 2);
                  ctx.textAlign = 'left'; ctx.fillText(label, 0, 0); ctx.restore();
                }
                var t = current();
                if (t >= 0) { ctx.strokeStyle = 'rgba(217,72,1,.9)'; ctx.strokeRect(margin + 0.5, margin + t * bigCell + 0.5, n * bigCell - 1, bigCell - 1); }
              }
              big.addEventListener('mousemove', function (ev) {
                var r = big.getBoundingClientRect();
                var k = Math.floor((ev.clientX - r.left - margin) / bigCell), q = Math.floor((ev.clientY - r.top - margin) / bigCell);
                var tip = document.getElementById('tip');
                if (q >= 0 && q < n && k >= 0 && k <= q) tip.textContent = heads[focus].name + ': ' + data.tokens[q] + ' → ' + data.tokens[k] + ' = ' + w(focus, q, k).toFixed(4);
                else tip.textContent = '';
              });
              function render() {
                document.querySelectorAll('.head').forEach(function (d, h) { d.classList.toggle('focus', h === focus); });
                document.getElementById('focus-name').textContent = heads.length ? heads[focus].name : '';
                for (var h = 0; h < heads.length; h++) drawSmall(h);
                paintStrip('from', blue, function (t, i) { return w(focus, t, i); });
                paintStrip('to', orange, function (t, i) { return w(focus, i, t); });
                if (heads.length) drawBig();
              }
              render();
              document.body.setAttribute('data-jlens-panels', String(document.querySelectorAll('#heads .head').length));
              document.body.setAttribute('data-jlens-ready', 'attention');
            })();
            """;

    /** Writes a page to {@code file} (creating folders) and returns the file. */
    public static Path write(Path file, String html) {
        try {
            Path parent = file.toAbsolutePath().getParent();
            if (parent != null) Files.createDirectories(parent);
            Files.writeString(file, html, StandardCharsets.UTF_8);
            return file;
        } catch (IOException e) {
            throw new UncheckedIOException("could not write " + file, e);
        }
    }
}
