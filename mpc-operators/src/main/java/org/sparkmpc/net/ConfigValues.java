package org.sparkmpc.net;

import java.time.Duration;
import java.util.Locale;
import java.util.Objects;

/**
 * Parsing of the duration and size settings ({@code spark.mpc.timeout},
 * {@code spark.mpc.gateway.maxBufferedBytes}, ...) for every entry point: the gateway and dealer
 * processes and the Spark settings; and durations as error messages show them. Errors name the
 * setting, never a secret.
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

  /** {@code 30 s}, {@code 250 ms}, {@code 2.5 s}: a duration for error messages. */
  static String human(Duration d) {
    long ms = d.toMillis();
    if (ms < 1000) {
      return ms + " ms";
    }
    if (ms % 1000 == 0) {
      return (ms / 1000) + " s";
    }
    return String.format(Locale.ROOT, "%.1f s", ms / 1000.0);
  }

  static long saturatedNanos(Duration d) {
    try {
      return d.toNanos();
    } catch (ArithmeticException e) {
      return Long.MAX_VALUE / 4;
    }
  }

  static Duration requirePositive(Duration d, String what) {
    Objects.requireNonNull(d, what);
    if (d.isNegative() || d.isZero()) {
      throw new IllegalArgumentException(what + " must be positive, was " + d);
    }
    return d;
  }
}
