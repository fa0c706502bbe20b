/**
 * Pictures of analysis results, independent of any analysis: a result hands over a
 * {@link dev.jlens.view.Heatmap}, {@link dev.jlens.view.LineChart} or {@link dev.jlens.view.BarChart}
 * and gets, from the same data,
 * <ul>
 *   <li>terminal text ({@link dev.jlens.view.AnsiHeatmap}, {@link dev.jlens.view.Table},
 *       {@link dev.jlens.view.Bars}): 24-bit colour when {@link dev.jlens.view.TerminalStyle#detect()}
 *       allows it, plain aligned text otherwise, fitted to the terminal width;</li>
 *   <li>self-contained HTML ({@link dev.jlens.view.HtmlPages}): inline CSS and JavaScript, no network —
 *       heatmaps with token labels and a CircuitsVis-style attention view; {@link dev.jlens.view.Browser}
 *       opens them when a browser may be used and prints the path otherwise;</li>
 *   <li>PNG ({@link dev.jlens.view.PngCharts}): Java2D, headless.</li>
 * </ul>
 * {@link dev.jlens.view.HeatmapFigure} and {@link dev.jlens.view.ChartFigure} give a result record
 * {@code toText()}, {@code savePng(…)}, {@code saveHtml(…)} and {@code show()} in one line.
 */
package dev.jlens.view;
