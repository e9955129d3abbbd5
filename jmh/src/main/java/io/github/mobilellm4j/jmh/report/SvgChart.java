package io.github.mobilellm4j.jmh.report;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * A dependency-free SVG grouped bar chart: one group of bars per x label (e.g. "125M Q4_0"), one bar per series
 * (e.g. "1 thread"), several panels stacked vertically in one image.
 */
public final class SvgChart {
    /** One panel: bars of values[group][series]; NaN leaves a gap. */
    public record Panel(String title, String yLabel, List<String> groups, List<String> series, double[][] values) {
    }

    private static final String[] COLORS = {"#4e79a7", "#f28e2b", "#59a14f", "#e15759", "#76b7b2", "#edc948",
        "#b07aa1", "#9c755f"};
    private static final int PANEL_HEIGHT = 300;
    private static final int LEFT = 70;
    private static final int RIGHT = 20;
    private static final int TOP = 50;
    private static final int BOTTOM = 60;
    private static final int BAR = 22;
    private static final int GROUP_GAP = 26;
    private static final int LEGEND = 175;

    private final List<Panel> panels = new ArrayList<>();
    private final String title;

    public SvgChart(String title) {
        this.title = title;
    }

    public SvgChart add(Panel p) {
        panels.add(p);
        return this;
    }

    public boolean isEmpty() {
        return panels.isEmpty();
    }

    public String render() {
        int width = 640;
        for (Panel p : panels) width = Math.max(width, panelWidth(p));
        int height = 40 + panels.size() * (PANEL_HEIGHT + TOP + BOTTOM);
        StringBuilder sb = new StringBuilder();
        sb.append(String.format(Locale.ROOT, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" "
                + "viewBox=\"0 0 %d %d\" font-family=\"Helvetica, Arial, sans-serif\" font-size=\"12\">%n",
                width, height, width, height));
        sb.append(String.format(Locale.ROOT, "<rect width=\"%d\" height=\"%d\" fill=\"#ffffff\"/>%n", width, height));
        sb.append(String.format(Locale.ROOT, "<text x=\"%d\" y=\"26\" text-anchor=\"middle\" font-size=\"16\" "
                + "font-weight=\"bold\">%s</text>%n", width / 2, esc(title)));
        int y = 40;
        for (Panel p : panels) {
            sb.append(String.format(Locale.ROOT, "<g transform=\"translate(0,%d)\">%n", y));
            panel(sb, p, width);
            sb.append("</g>\n");
            y += PANEL_HEIGHT + TOP + BOTTOM;
        }
        sb.append("</svg>\n");
        return sb.toString();
    }

    private static int panelWidth(Panel p) {
        int groupWidth = groupWidth(p);
        return LEFT + RIGHT + Math.max(1, p.groups().size()) * groupWidth + LEGEND;
    }

    private static void panel(StringBuilder sb, Panel p, int width) {
        double max = 0;
        for (double[] row : p.values()) {
            for (double v : row) {
                if (!Double.isNaN(v)) max = Math.max(max, v);
            }
        }
        double top = niceCeil(max);
        int plotW = width - LEFT - RIGHT - LEGEND;
        int x0 = LEFT;
        int yBase = TOP + PANEL_HEIGHT;
        sb.append(String.format(Locale.ROOT, "<text x=\"%d\" y=\"%d\" font-size=\"14\" font-weight=\"bold\">%s</text>%n",
                LEFT, TOP - 18, esc(p.title())));
        // grid and y ticks
        int ticks = 5;
        for (int i = 0; i <= ticks; i++) {
            double v = top * i / ticks;
            double y = yBase - (double) PANEL_HEIGHT * i / ticks;
            sb.append(String.format(Locale.ROOT, "<line x1=\"%d\" y1=\"%.1f\" x2=\"%d\" y2=\"%.1f\" stroke=\"%s\"/>%n",
                    x0, y, x0 + plotW, y, i == 0 ? "#333333" : "#e0e0e0"));
            sb.append(String.format(Locale.ROOT, "<text x=\"%d\" y=\"%.1f\" text-anchor=\"end\">%s</text>%n",
                    x0 - 6, y + 4, fmt(v)));
        }
        sb.append(String.format(Locale.ROOT, "<text transform=\"translate(16,%d) rotate(-90)\" text-anchor=\"middle\">%s</text>%n",
                TOP + PANEL_HEIGHT / 2, esc(p.yLabel())));
        int nSeries = p.series().size();
        int groupW = groupWidth(p);
        double scale = top > 0 ? PANEL_HEIGHT / top : 0;
        for (int g = 0; g < p.groups().size(); g++) {
            int gx = x0 + (groupW - nSeries * BAR) / 2 + g * groupW;
            for (int s = 0; s < nSeries; s++) {
                double v = p.values()[g][s];
                if (Double.isNaN(v)) continue;
                double h = v * scale;
                int bx = gx + s * BAR;
                sb.append(String.format(Locale.ROOT, "<rect x=\"%d\" y=\"%.1f\" width=\"%d\" height=\"%.1f\" fill=\"%s\">"
                        + "<title>%s, %s: %s</title></rect>%n", bx, yBase - h, BAR - 3, h, COLORS[s % COLORS.length],
                        esc(p.groups().get(g)), esc(p.series().get(s)), fmt(v)));
                sb.append(String.format(Locale.ROOT, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\" font-size=\"9\">%s</text>%n",
                        bx + (BAR - 3) / 2.0, yBase - h - 3, fmt(v)));
            }
            sb.append(String.format(Locale.ROOT, "<text x=\"%.1f\" y=\"%d\" text-anchor=\"middle\">%s</text>%n",
                    gx + nSeries * BAR / 2.0, yBase + 18, esc(p.groups().get(g))));
        }
        // legend
        int lx = x0 + plotW + 16;
        for (int s = 0; s < nSeries; s++) {
            int ly = TOP + 10 + s * 20;
            sb.append(String.format(Locale.ROOT, "<rect x=\"%d\" y=\"%d\" width=\"12\" height=\"12\" fill=\"%s\"/>%n",
                    lx, ly - 10, COLORS[s % COLORS.length]));
            sb.append(String.format(Locale.ROOT, "<text x=\"%d\" y=\"%d\">%s</text>%n", lx + 18, ly, esc(p.series().get(s))));
        }
    }

    /** Room for the bars of a group and for its label below them. */
    private static int groupWidth(Panel p) {
        int longest = 0;
        for (String g : p.groups()) longest = Math.max(longest, g.length());
        return Math.max(p.series().size() * BAR + GROUP_GAP, longest * 7 + 14);
    }

    /** The smallest 1, 2 or 5 times a power of ten at or above v (1 for v <= 0). */
    static double niceCeil(double v) {
        if (!(v > 0)) return 1;
        double pow = Math.pow(10, Math.floor(Math.log10(v)));
        for (double m : new double[] {1, 2, 2.5, 5, 10}) {
            if (m * pow >= v) return m * pow;
        }
        return 10 * pow;
    }

    static String fmt(double v) {
        if (v == 0) return "0";
        if (v >= 100) return String.format(Locale.ROOT, "%.0f", v);
        if (v >= 10) return String.format(Locale.ROOT, "%.1f", v);
        return String.format(Locale.ROOT, "%.2f", v);
    }

    static String esc(String s) {
        return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\"", "&quot;");
    }
}
