package org.sparkmpc.connectors.federated;

import java.io.IOException;

/**
 * A submission that did not reach every party: a party refused it (its reason is in the message) or
 * could not be reached. {@link #receipt()} tells which parties stored their share; the parties only sum
 * submissions every one of them stored with the same nonce, so a partial one is ignored.
 */
public final class FederatedUploadException extends IOException {
  private static final long serialVersionUID = 1L;

  private final String party;
  private final boolean refused;
  private final transient FederatedClient.Receipt receipt;

  FederatedUploadException(String party, boolean refused, String message, FederatedClient.Receipt receipt,
      Throwable cause) {
    super(message, cause);
    this.party = party;
    this.refused = refused;
    this.receipt = receipt;
  }

  /** The (first) party that refused or failed. */
  public String party() {
    return party;
  }

  /** Whether the party answered with a refusal (else the connection failed). */
  public boolean refused() {
    return refused;
  }

  /** Every party's outcome of this submission. */
  public FederatedClient.Receipt receipt() {
    return receipt;
  }
}
