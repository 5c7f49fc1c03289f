package org.sparkmpc.psi;

import java.text.Normalizer;
import java.util.Locale;
import org.sparkmpc.MpcInputException;

/**
 * How an identifier is normalised before it is hashed for private set intersection. Both parties
 * must use the same rule; the plan agreement refuses parties whose rules differ. An identifier that
 * is null, or empty after normalisation, is missing: it can match nothing.
 *
 * <ul>
 *   <li>{@code trim-lower} (the default): Unicode NFKC, surrounding white space removed
 *       ({@link String#strip()}), lower case in the root locale. {@code " Ab-12 "} and
 *       {@code "ab-12"} are the same identifier; inner spaces and punctuation stay.
 *   <li>{@code trim}: NFKC and surrounding white space removed; case matters.
 *   <li>{@code exact}: the string as it is.
 * </ul>
 */
public enum IdNormalization {
  TRIM_LOWER("trim-lower"),
  TRIM("trim"),
  EXACT("exact");

  private final String setting;

  IdNormalization(String setting) {
    this.setting = setting;
  }

  /** The rule's name in settings ({@code spark.mpc.psi.normalize}). */
  public String setting() {
    return setting;
  }

  /** The normalised identifier, or null if it is missing (null, or empty after normalisation). */
  public String apply(String id) {
    if (id == null) {
      return null;
    }
    String s = switch (this) {
      case EXACT -> id;
      case TRIM -> Normalizer.normalize(id, Normalizer.Form.NFKC).strip();
      case TRIM_LOWER -> Normalizer.normalize(id, Normalizer.Form.NFKC).strip()
          .toLowerCase(Locale.ROOT);
    };
    return s.isEmpty() ? null : s;
  }

  /** The rule named {@code setting}; an error naming {@code key} and the choices otherwise. */
  public static IdNormalization parse(String setting, String key) {
    for (IdNormalization n : values()) {
      if (n.setting.equalsIgnoreCase(setting.trim())) {
        return n;
      }
    }
    throw new MpcInputException(key + " must be trim-lower, trim or exact, was '" + setting + "'");
  }
}
