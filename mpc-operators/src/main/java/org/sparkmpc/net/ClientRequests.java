package org.sparkmpc.net;

import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.time.Duration;
import javax.net.ssl.SSLSocket;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The requests of this party's own clients (its executors and driver, {@link GatewayClient}) at its
 * {@link Gateway}: each runs the gateway's own call and is answered with a CLIENT_STATUS frame, or
 * for a received message a DATA frame. The frames are documented on {@link Gateway}; the gateway
 * reads the frame type and authenticates the connection as a client before handing a request here.
 *
 * <p>What it reveals: a failure is answered with the exception's kind and message; the channel's
 * exception messages name parties and coordinates only, other exceptions are reported by class name
 * alone.
 */
final class ClientRequests {

  private static final Logger LOG = LoggerFactory.getLogger(ClientRequests.class);

  private final Gateway gateway;

  ClientRequests(Gateway gateway) {
    this.gateway = gateway;
  }

  /** Whether frame type {@code type} is a client request. */
  static boolean isClientRequest(int type) {
    return type == Wire.TYPE_CLIENT_SEND || type == Wire.TYPE_CLIENT_RECEIVE
        || type == Wire.TYPE_CLIENT_END_SESSION || type == Wire.TYPE_CLIENT_SESSION_STATE
        || type == Wire.TYPE_CLIENT_RELEASE_OPERATOR;
  }

  /** Read the body of a client request of {@code type} (a client request type), run it, answer. */
  void serve(SSLSocket s, DataInputStream in, DataOutputStream out, int type)
      throws IOException, Wire.MalformedFrameException {
    switch (type) {
      case Wire.TYPE_CLIENT_SEND: {
        Wire.ClientSendHeader h = Wire.readClientSendBody(in);
        byte[] payload = new byte[(int) h.length()];
        in.readFully(payload);
        s.setSoTimeout(0);
        writeOutcome(out, () -> gateway.send(h.to(), h.key(), payload));
        break;
      }
      case Wire.TYPE_CLIENT_RECEIVE: {
        Wire.ClientReceive r = Wire.readClientReceiveBody(in);
        s.setSoTimeout(0);
        byte[] payload;
        try {
          payload = gateway.receive(r.key(), Duration.ofMillis(r.timeoutMillis()));
        } catch (RuntimeException e) {
          writeFailure(out, e);
          break;
        }
        Wire.writeData(out, r.key(), payload);
        out.flush();
        break;
      }
      case Wire.TYPE_CLIENT_SESSION_STATE: {
        String session = Wire.readClientEndSessionBody(in);
        boolean ended = gateway.isSessionEnded(session);
        Wire.writeClientStatus(out, ended ? Wire.ClientStatus.ENDED : Wire.ClientStatus.OK,
            ended ? "ended" : "not ended");
        out.flush();
        break;
      }
      case Wire.TYPE_CLIENT_RELEASE_OPERATOR: {
        Wire.ClientRelease r = Wire.readClientReleaseOperatorBody(in);
        writeOutcome(out, () -> gateway.releaseOperator(r.session(), r.operator()));
        break;
      }
      case Wire.TYPE_CLIENT_END_SESSION:
      default: {
        String session = Wire.readClientEndSessionBody(in);
        writeOutcome(out, () -> gateway.endSession(session));
        break;
      }
    }
  }

  private void writeOutcome(DataOutputStream out, Runnable call) throws IOException {
    try {
      call.run();
    } catch (RuntimeException e) {
      writeFailure(out, e);
      return;
    }
    Wire.writeClientStatus(out, Wire.ClientStatus.OK, "accepted");
    out.flush();
  }

  /**
   * Answer a failed client request with the exception's kind and message. The channel's exception
   * messages name parties and coordinates only; other exceptions are reported by class name alone.
   */
  private void writeFailure(DataOutputStream out, RuntimeException e) throws IOException {
    Wire.ClientStatus kind;
    String reason = e.getMessage();
    if (e instanceof PeerAbortedException) {
      kind = Wire.ClientStatus.ABORTED;
    } else if (e instanceof PeerTimeoutException) {
      kind = Wire.ClientStatus.TIMEOUT;
    } else if (e instanceof PeerUnavailableException) {
      kind = Wire.ClientStatus.UNAVAILABLE;
    } else if (e instanceof OperatorReleasedException) {
      kind = Wire.ClientStatus.RELEASED;
    } else if (e instanceof ProtocolException) {
      kind = Wire.ClientStatus.PROTOCOL;
    } else if (e instanceof MpcChannelException) {
      kind = Wire.ClientStatus.CHANNEL;
    } else if (e instanceof IllegalArgumentException) {
      kind = Wire.ClientStatus.INVALID;
    } else {
      kind = Wire.ClientStatus.CHANNEL;
      reason = "the gateway of party '" + gateway.directory().self().name() + "' failed ("
          + e.getClass().getSimpleName() + ")";
      LOG.warn("gateway {}: a client request failed with {}", gateway.directory().self().name(),
          e.getClass().getName());
    }
    Wire.writeClientStatus(out, kind, reason == null ? kind.name() : reason);
    out.flush();
  }
}
