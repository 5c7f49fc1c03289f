package org.sparkmpc.connectors.federated;

import java.io.FilterInputStream;
import java.io.FilterOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A plain TCP socket that counts the bytes through its streams. An {@link javax.net.ssl.SSLSocket}
 * layered on it ({@code SSLSocketFactory.createSocket(socket, host, port, true)}) reads and writes
 * through these streams, so the counts are the bytes on the wire: TLS records and handshake included.
 */
final class CountingSocket extends Socket {
  private final AtomicLong written = new AtomicLong();
  private final AtomicLong read = new AtomicLong();
  private OutputStream out;
  private InputStream in;

  long written() {
    return written.get();
  }

  long read() {
    return read.get();
  }

  @Override
  public synchronized OutputStream getOutputStream() throws IOException {
    if (out == null) {
      out = new FilterOutputStream(super.getOutputStream()) {
        @Override
        public void write(int b) throws IOException {
          out.write(b);
          written.incrementAndGet();
        }

        @Override
        public void write(byte[] b, int off, int len) throws IOException {
          out.write(b, off, len);
          written.addAndGet(len);
        }
      };
    }
    return out;
  }

  @Override
  public synchronized InputStream getInputStream() throws IOException {
    if (in == null) {
      in = new FilterInputStream(super.getInputStream()) {
        @Override
        public int read() throws IOException {
          int b = in.read();
          if (b >= 0) {
            read.incrementAndGet();
          }
          return b;
        }

        @Override
        public int read(byte[] b, int off, int len) throws IOException {
          int n = in.read(b, off, len);
          if (n > 0) {
            read.addAndGet(n);
          }
          return n;
        }
      };
    }
    return in;
  }
}
