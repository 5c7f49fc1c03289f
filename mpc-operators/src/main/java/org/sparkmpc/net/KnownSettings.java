package org.sparkmpc.net;

import java.util.Collection;

/**
 * The {@code spark.mpc.*} keys a Spark MPC installation knows, as a service ({@link
 * java.util.ServiceLoader}): the Spark side provides its one list of settings, so that the tools
 * outside Spark ({@code bin/gateway}, {@code bin/dealer}, {@code bin/infer}) can tell a setting
 * they merely do not use from a misspelt one without keeping a second list. See {@link
 * PartySettings#refuseUnknown}.
 */
public interface KnownSettings {

  /** Every {@code spark.mpc.*} key that may appear in a party config. */
  Collection<String> keys();
}
