package dev.jlens.view;

import java.awt.Desktop;
import java.awt.GraphicsEnvironment;
import java.io.File;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.Locale;

/**
 * Opens a written page in the user's browser when there is one to open, and otherwise says where
 * the page is. Never opens anything in CI ({@code CI=true}), when {@code -Djlens.browser=none}, or
 * on Linux without a display; tests therefore never pop up windows.
 */
public final class Browser {
    private Browser() {}

    /** Where {@code show()} writes pages: {@code -Djlens.figures=DIR}, else {@code <tmp>/jlens}. */
    public static Path figuresDir() {
        String dir = System.getProperty("jlens.figures");
        return dir != null && !dir.isBlank() ? Path.of(dir) : Path.of(System.getProperty("java.io.tmpdir"), "jlens");
    }

    /**
     * The file a figure is saved to when no path is given: its kind ({@code logit-lens}), then what it shows in
     * words taken from its title ({@code probability-of-top-token}), then 6 hex digits of the whole title, so two
     * figures of one kind never overwrite each other and the name still says which is which.
     */
    public static Path figureFile(String kind, String title, String extension) {
        String words = title.toLowerCase(java.util.Locale.ROOT).replaceAll("[^a-z0-9]+", "-").replaceAll("^-|-$", "");
        if (words.length() > 60) words = words.substring(0, 60).replaceAll("-[^-]*$", "");
        String hash = String.format("%06x", title.hashCode() & 0xffffff);
        return figuresDir().resolve(kind + (words.isEmpty() ? "" : "-" + words) + "-" + hash + "." + extension);
    }

    /** Writes {@code html} as {@code <figuresDir>/<name>.html}, opens it if possible, and returns the file. */
    public static Path show(String name, String html) {
        Path file = HtmlPages.write(figuresDir().resolve(name + ".html"), html).toAbsolutePath();
        open(file, System.out);
        return file;
    }

    /** Opens {@code file} in a browser if one may be used, else prints its address to {@code out}. */
    public static boolean open(Path file, PrintStream out) {
        String url = file.toAbsolutePath().toUri().toString();
        String why = whyNot();
        if (why == null) {
            String os = System.getProperty("os.name", "").toLowerCase(Locale.ROOT);
            String[] command = os.contains("mac") ? new String[] {"open", url}
                    : os.contains("win") ? new String[] {"rundll32", "url.dll,FileProtocolHandler", url}
                    : new String[] {"xdg-open", url};
            try {
                new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
                out.println("opened " + url);
                return true;
            } catch (Exception e) {
                if (!GraphicsEnvironment.isHeadless() && Desktop.isDesktopSupported()
                        && Desktop.getDesktop().isSupported(Desktop.Action.BROWSE)) {
                    try {
                        Desktop.getDesktop().browse(new File(file.toString()).toURI());
                        out.println("opened " + url);
                        return true;
                    } catch (Exception ignored) {
                        // fall through to printing the address
                    }
                }
                why = "could not start " + command[0];
            }
        }
        out.println("wrote " + url + " (" + why + ")");
        return false;
    }

    /** Why no browser may be opened here, or null when one may. */
    static String whyNot() {
        if ("true".equalsIgnoreCase(System.getenv("CI"))) return "CI: no browser";
        if ("none".equalsIgnoreCase(System.getProperty("jlens.browser", ""))) return "jlens.browser=none";
        String os = System.getProperty("os.name", "").toLowerCase(Locale.ROOT);
        boolean linux = !os.contains("mac") && !os.contains("win");
        if (linux && isBlank(System.getenv("DISPLAY")) && isBlank(System.getenv("WAYLAND_DISPLAY"))) {
            return "no display: open it in a browser";
        }
        return null;
    }

    private static boolean isBlank(String s) {
        return s == null || s.isBlank();
    }
}
