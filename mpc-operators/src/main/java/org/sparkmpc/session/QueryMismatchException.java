package org.sparkmpc.session;

import org.sparkmpc.net.ProtocolException;

/** Parties disagree on what to compute (query, tables, partitioning contract, recipients). */
public class QueryMismatchException extends ProtocolException {
  private static final long serialVersionUID = 1L;

  public QueryMismatchException(String message) {
    super(message);
  }
}
