package org.sparkmpc.net;

import java.util.Locale;

/**
 * Parsing of the duration and size settings ({@code spark.mpc.timeout},
 * {@code spark.mpc.gateway.maxBufferedBytes}, ...) for every entry point: the gateway and dealer
 * processes and the Spark settings. Errors name the setting, never a secret.
 */
public final class ConfigValues {
  private ConfigValues() {}

  /** {@code 500ms}, {@code 30s}, {@code 2m}, {@code 1h}; a plain number is seconds. */
  public static long millis(String key, String value) {
    String t = value.trim().toLowerCase(Locale.ROOT);
    try {
      long unit;
      String num;
      if (t.endsWith("ms")) {
        unit = 1;
        num = t.substring(0, t.length() - 2);
      } else if (t.endsWith("s") || t.endsWith("m") || t.endsWith("h")) {
        char u = t.charAt(t.length() - 1);
        unit = u == 'h' ? 3_600_000 : u == 'm' ? 60_000 : 1000;
        num = t.substring(0, t.length() - 1);
      } else {
        unit = 1000;
        num = t;
      }
      long ms = Math.round(Double.parseDouble(num.trim()) * unit);
      if (ms <= 0) {
        throw new IllegalArgumentException("'" + key + "' must be positive, was '" + value + "'");
      }
      return ms;
    } catch (NumberFormatException | StringIndexOutOfBoundsException e) {
      throw new IllegalArgumentException("'" + key + "' is not a duration like 120s or 500ms: '" + value + "'");
    }
  }

  /** {@code 512m}, {@code 2g}, {@code 64k}, {@code 1048576}; binary units (k = 1024). */
  public static long bytes(String key, String value) {
    String t = value.trim().toLowerCase(Locale.ROOT);
    if (t.endsWith("b")) {
      t = t.substring(0, t.length() - 1);
    }
    try {
      long unit = 1;
      if (!t.isEmpty() && "kmgt".indexOf(t.charAt(t.length() - 1)) >= 0) {
        unit = 1L << (10 * ("kmgt".indexOf(t.charAt(t.length() - 1)) + 1));
        t = t.substring(0, t.length() - 1);
      }
      long n = Long.parseLong(t.trim());
      if (n <= 0) {
        throw new IllegalArgumentException("'" + key + "' must be positive, was '" + value + "'");
      }
      return Math.multiplyExact(n, unit);
    } catch (NumberFormatException | ArithmeticException e) {
      throw new IllegalArgumentException("'" + key + "' is not a size like 512m or 2g: '" + value + "'");
    }
  }
}
