package org.sparkmpc.notebooks;

import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.awt.Paint;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import javax.imageio.ImageIO;
import org.jfree.chart.ChartFactory;
import org.jfree.chart.JFreeChart;
import org.jfree.chart.axis.CategoryAxis;
import org.jfree.chart.axis.NumberAxis;
import org.jfree.chart.axis.NumberTickUnit;
import org.jfree.chart.plot.CategoryPlot;
import org.jfree.chart.plot.PlotOrientation;
import org.jfree.chart.plot.XYPlot;
import org.jfree.chart.renderer.category.BarRenderer;
import org.jfree.chart.renderer.category.StandardBarPainter;
import org.jfree.chart.renderer.xy.XYLineAndShapeRenderer;
import org.jfree.chart.title.TextTitle;
import org.jfree.chart.ui.RectangleEdge;
import org.jfree.data.category.DefaultCategoryDataset;
import org.jfree.data.xy.XYSeries;
import org.jfree.data.xy.XYSeriesCollection;

/**
 * The charts of the notebooks, drawn by JFreeChart into images that a notebook shows with {@code
 * display(image)} and saves with {@link #savePng}: bars grouped by category, and ROC curves. One
 * look for all of them (white background, light grid, flat bars, the same colours in the same
 * order), so that notebooks need no drawing code of their own.
 *
 * <p>Headless: nothing here opens a window, and loading the class sets {@code java.awt.headless}
 * to true unless it was set already (the notebook kernel's JVM sets it too), so it works on a
 * machine without a display. Text needs a font: {@code notebooks/setup.sh} installs DejaVu.
 *
 * <p>A title may hold a line break: the first line is the title, the rest a subtitle in smaller
 * type.
 */
public final class Charts {
  static {
    if (System.getProperty("java.awt.headless") == null) {
      System.setProperty("java.awt.headless", "true");
    }
  }

  /** Width of a bar chart, in pixels. */
  public static final int BARS_WIDTH = 820;
  /** Height of a bar chart, in pixels. */
  public static final int BARS_HEIGHT = 440;
  /** Width of a ROC chart, in pixels (near square, like the unit square it shows). */
  public static final int ROC_WIDTH = 620;
  /** Height of a ROC chart, in pixels. */
  public static final int ROC_HEIGHT = 600;

  /** The series colours, in order; after the last they start again. */
  private static final Color[] PALETTE = {new Color(70, 110, 170), new Color(220, 120, 50),
      new Color(80, 160, 90), new Color(170, 70, 140), new Color(120, 120, 120),
      new Color(190, 160, 40)};
  private static final Color GRID = new Color(215, 215, 215);
  private static final Font TITLE = new Font(Font.SANS_SERIF, Font.BOLD, 16);
  private static final Font SUBTITLE = new Font(Font.SANS_SERIF, Font.PLAIN, 12);

  private Charts() {}

  /**
   * Vertical bars, one group per category and one bar of each group per series, with a legend of
   * the series. A NaN value draws no bar for that group (its place stays empty), e.g. for a group
   * that was not opened. Long category names wrap, onto three lines at most.
   *
   * @param title      the chart's title (a line break starts a subtitle)
   * @param yLabel     the label of the value axis
   * @param categories the groups, left to right
   * @param series     per series, in legend order (use a {@code LinkedHashMap}), one value per
   *                   category
   * @throws IllegalArgumentException if a series has not one value per category
   */
  public static BufferedImage groupedBars(String title, String yLabel, List<String> categories,
      Map<String, double[]> series) {
    DefaultCategoryDataset data = new DefaultCategoryDataset();
    for (Map.Entry<String, double[]> s : series.entrySet()) {
      double[] v = s.getValue();
      if (v.length != categories.size()) {
        throw new IllegalArgumentException("series " + s.getKey() + " has " + v.length
            + " values for " + categories.size() + " categories");
      }
      for (int i = 0; i < v.length; i++) {
        data.addValue(Double.isNaN(v[i]) ? null : (Number) v[i], s.getKey(), categories.get(i));
      }
    }
    JFreeChart chart = ChartFactory.createBarChart(null, null, yLabel, data,
        PlotOrientation.VERTICAL, true, false, false);
    titles(chart, title);
    CategoryPlot plot = chart.getCategoryPlot();
    plot.setBackgroundPaint(Color.WHITE);
    plot.setOutlineVisible(false);
    plot.setRangeGridlinePaint(GRID);
    plot.setRangeGridlineStroke(new BasicStroke(1f));
    CategoryAxis x = plot.getDomainAxis();
    x.setMaximumCategoryLabelLines(3);
    x.setCategoryMargin(0.25);
    BarRenderer bars = (BarRenderer) plot.getRenderer();
    bars.setBarPainter(new StandardBarPainter());
    bars.setShadowVisible(false);
    bars.setDrawBarOutline(false);
    bars.setItemMargin(0.04);
    for (int s = 0; s < series.size(); s++) {
      bars.setSeriesPaint(s, colour(s));
    }
    chart.getLegend().setPosition(RectangleEdge.TOP);
    return chart.createBufferedImage(BARS_WIDTH, BARS_HEIGHT);
  }

  /**
   * ROC curves on the unit square, false positive rate across and true positive rate up, each
   * named in the legend with its area under the curve, and the diagonal of a random ranking
   * (area 0.5) dashed. The points are joined by straight lines, whose area is the one {@code
   * BinaryMetrics.auc} computes.
   *
   * @param title  the chart's title (a line break starts a subtitle)
   * @param curves per curve, in legend order (use a {@code LinkedHashMap}): {@code {fpr, tpr}},
   *               two arrays of one length, as {@code BinaryMetrics.roc} returns
   * @param auc    the area of each curve by name, shown in the legend; a curve without one is
   *               shown by name only
   * @throws IllegalArgumentException if a curve's two arrays differ in length or are empty
   */
  public static BufferedImage roc(String title, Map<String, double[][]> curves,
      Map<String, Double> auc) {
    XYSeriesCollection data = new XYSeriesCollection();
    for (Map.Entry<String, double[][]> c : curves.entrySet()) {
      double[][] xy = c.getValue();
      if (xy.length != 2 || xy[0].length != xy[1].length || xy[0].length == 0) {
        throw new IllegalArgumentException("curve " + c.getKey() + " is not {fpr, tpr} of one "
            + "non-zero length");
      }
      Double area = auc.get(c.getKey());
      String name = area == null ? c.getKey()
          : String.format(Locale.ROOT, "%s (AUC %.3f)", c.getKey(), area);
      XYSeries s = new XYSeries(name, false, true);
      for (int i = 0; i < xy[0].length; i++) {
        s.add(xy[0][i], xy[1][i]);
      }
      data.addSeries(s);
    }
    XYSeries diagonal = new XYSeries("random ranking (AUC 0.5)", false, true);
    diagonal.add(0, 0);
    diagonal.add(1, 1);
    data.addSeries(diagonal);

    JFreeChart chart = ChartFactory.createXYLineChart(null, "false positive rate",
        "true positive rate", data, PlotOrientation.VERTICAL, true, false, false);
    titles(chart, title);
    XYPlot plot = chart.getXYPlot();
    plot.setBackgroundPaint(Color.WHITE);
    plot.setOutlineVisible(false);
    plot.setDomainGridlinePaint(GRID);
    plot.setRangeGridlinePaint(GRID);
    for (NumberAxis axis : List.of((NumberAxis) plot.getDomainAxis(),
        (NumberAxis) plot.getRangeAxis())) {
      axis.setRange(-0.02, 1.02);   // a margin, so that a curve along an edge stays visible
      axis.setTickUnit(new NumberTickUnit(0.2));
    }
    XYLineAndShapeRenderer lines = new XYLineAndShapeRenderer(true, false);
    for (int s = 0; s < curves.size(); s++) {
      lines.setSeriesPaint(s, colour(s));
      lines.setSeriesStroke(s, new BasicStroke(2f));
    }
    lines.setSeriesPaint(curves.size(), Color.GRAY);
    lines.setSeriesStroke(curves.size(), new BasicStroke(1f, BasicStroke.CAP_BUTT,
        BasicStroke.JOIN_MITER, 10f, new float[] {5f, 5f}, 0f));
    plot.setRenderer(lines);
    chart.getLegend().setPosition(RectangleEdge.BOTTOM);
    return chart.createBufferedImage(ROC_WIDTH, ROC_HEIGHT);
  }

  /**
   * Writes {@code image} as a PNG file, creating its folder if needed.
   *
   * @throws UncheckedIOException if it cannot be written
   */
  public static void savePng(BufferedImage image, Path file) {
    try {
      Path dir = file.toAbsolutePath().getParent();
      if (dir != null) {
        Files.createDirectories(dir);
      }
      if (!ImageIO.write(image, "png", file.toFile())) {
        throw new IOException("no PNG writer in this JVM");
      }
    } catch (IOException e) {
      throw new UncheckedIOException("writing " + file, e);
    }
  }

  private static void titles(JFreeChart chart, String title) {
    chart.setBackgroundPaint(Color.WHITE);
    if (title == null || title.isEmpty()) {
      return;
    }
    int nl = title.indexOf('\n');
    chart.setTitle(new TextTitle(nl < 0 ? title : title.substring(0, nl), TITLE));
    if (nl >= 0) {
      TextTitle sub = new TextTitle(title.substring(nl + 1), SUBTITLE);
      sub.setPaint(Color.DARK_GRAY);
      chart.addSubtitle(0, sub);
    }
  }

  private static Paint colour(int series) {
    return PALETTE[series % PALETTE.length];
  }
}
