package org.sparkmpc.connectors.federated;

import java.io.BufferedInputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.Serializable;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.List;
import java.util.Objects;
import java.util.regex.Pattern;
import org.sparkmpc.federated.SeedShares;

/**
 * The uploads one party stored for a round, as the Spark job that sums them reads them.
 *
 * <p>One file per accepted client in the round's directory, named by the lowercase hex SHA-256 of the
 * UTF-8 client id (64 characters, no extension); files being received end in {@code .tmp} and are never
 * listed. A file, big-endian unless said otherwise:
 *
 * <pre>
 *   magic     4 bytes   "SMFS"
 *   version   1 byte    1
 *   digest    32 bytes  RoundSpec.digest() of the round
 *   party     1 byte    the index of the party that stored it
 *   clientId  2 bytes length n, then n bytes UTF-8 (the CN of the client's certificate)
 *   nonce     16 bytes  the submission nonce
 *   role      1 byte    0 = seed, 1 = full
 *   dims      4 bytes
 *   width     1 byte
 *   payload   as in the upload (UploadWire): 32 bytes seed, or dims * width bytes little-endian
 * </pre>
 *
 * <p>A client's submission counts only if every party stored it with the same nonce: a client refused
 * by one party (or cut off) may be stored at the others, and summing those shares alone would corrupt
 * the total. The summing job therefore keeps the client ids whose {@link Entry#nonce()} agree at all
 * parties (the lists are public metadata) before adding anything.
 */
public final class UploadStore {

  static final byte[] MAGIC = {'S', 'M', 'F', 'S'};
  static final int VERSION = 1;
  static final String TEMP_SUFFIX = ".tmp";
  private static final Pattern COMPLETE = Pattern.compile("[0-9a-f]{64}");
  private static final int CHUNK = 64 * 1024;

  private UploadStore() {}

  /**
   * One stored upload: small and serialisable, so Spark can ship lists of them to executors.
   *
   * @param clientId the client (CN of its certificate)
   * @param nonce    the submission nonce, 32 lowercase hex characters
   * @param role     seed or full
   * @param file     the file's path, as a string
   */
  public record Entry(String clientId, String nonce, ShareRole role, String file) implements Serializable {
    private static final long serialVersionUID = 1L;

    /** {@link #file()} as a path. */
    public Path path() {
      return Path.of(file);
    }
  }

  /** A stored file's header. */
  record FileHeader(byte[] digest, int party, String clientId, byte[] nonce, ShareRole role, int dims, int width) {}

  /** The file name of {@code clientId}'s upload: hex SHA-256 of its UTF-8 bytes. */
  public static String fileName(String clientId) {
    return HexFormat.of().formatHex(RoundSpec.sha256(clientId.getBytes(StandardCharsets.UTF_8)));
  }

  /** Whether {@code file} has the name of a complete upload (not a temporary file). */
  static boolean isComplete(Path file) {
    return COMPLETE.matcher(file.getFileName().toString()).matches();
  }

  /**
   * The complete uploads in {@code roundDir}, sorted by client id; each file's header is read (not its
   * payload).
   *
   * @throws IllegalArgumentException naming the file if a header is malformed or truncated
   * @throws UncheckedIOException if the directory cannot be read
   */
  public static List<Entry> list(Path roundDir) {
    List<Entry> out = new ArrayList<>();
    try (DirectoryStream<Path> files = Files.newDirectoryStream(roundDir)) {
      for (Path f : files) {
        if (isComplete(f) && Files.isRegularFile(f)) {
          FileHeader h = readHeader(f);
          out.add(new Entry(h.clientId(), HexFormat.of().formatHex(h.nonce()), h.role(), f.toString()));
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot list the uploads in " + roundDir + ": " + e.getMessage(), e);
    }
    out.sort(Comparator.comparing(Entry::clientId));
    return out;
  }

  /**
   * Add one stored upload to this party's accumulator: a seed's expansion ({@link
   * SeedShares#addExpansion}) or the full vector ({@link SeedShares#addFull}), streamed from the file.
   *
   * @param acc {@code spec.dims()} elements, summed mod 2^64 ({@link SeedShares#reduce} at the very end)
   * @throws IllegalArgumentException naming the file if its header does not match {@code spec} and
   *     {@code selfIndex}, or it is malformed, truncated or has trailing bytes
   */
  public static void addInto(Path file, RoundSpec spec, int selfIndex, long[] acc) {
    if (acc.length != spec.dims()) {
      throw new IllegalArgumentException("accumulator has " + acc.length + " elements; round '" + spec.roundId()
          + "' has " + spec.dims() + " dimensions");
    }
    try (InputStream raw = Files.newInputStream(file);
         DataInputStream in = new DataInputStream(new BufferedInputStream(raw, CHUNK))) {
      FileHeader h = readHeader(in, file);
      checkAgainst(h, spec, selfIndex, file);
      int width = spec.width();
      if (h.role() == ShareRole.SEED) {
        byte[] seed = new byte[SeedShares.SEED_BYTES];
        in.readFully(seed);
        requireEnd(in, file);
        SeedShares.addExpansion(seed, width, acc);
        return;
      }
      byte[] buf = new byte[(CHUNK / width) * width];
      int done = 0;
      while (done < acc.length) {
        int n = Math.min(buf.length / width, acc.length - done);
        in.readFully(buf, 0, n * width);
        SeedShares.addFull(buf, 0, width, acc, done, n);
        done += n;
      }
      requireEnd(in, file);
    } catch (EOFException e) {
      throw new IllegalArgumentException("upload file " + file + " is truncated", e);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read upload file " + file + ": " + e.getMessage(), e);
    }
  }

  private static void requireEnd(InputStream in, Path file) throws IOException {
    if (in.read() != -1) {
      throw new IllegalArgumentException("upload file " + file + " has bytes after its payload");
    }
  }

  /** Check a stored header against the round: digest, party, role for the client, dims and width. */
  static void checkAgainst(FileHeader h, RoundSpec spec, int selfIndex, Path file) {
    if (!MessageDigest.isEqual(h.digest(), spec.digest())) {
      throw new IllegalArgumentException("upload file " + file + " belongs to another round or parameters than '"
          + spec.roundId() + "'");
    }
    if (h.party() != selfIndex) {
      throw new IllegalArgumentException("upload file " + file + " was stored by party " + h.party()
          + ", not party " + selfIndex);
    }
    if (h.role() != spec.roleOf(h.clientId(), selfIndex)) {
      throw new IllegalArgumentException("upload file " + file + " holds a " + h.role()
          + " share, but this party's role for its client is " + spec.roleOf(h.clientId(), selfIndex));
    }
    if (h.dims() != spec.dims() || h.width() != spec.width()) {
      throw new IllegalArgumentException("upload file " + file + " has dims/width " + h.dims() + "/" + h.width()
          + ", the round " + spec.dims() + "/" + spec.width());
    }
  }

  /** Read and check the header of {@code file}, and that the file's size is header plus payload. */
  static FileHeader readHeader(Path file) {
    try (InputStream raw = Files.newInputStream(file);
         DataInputStream in = new DataInputStream(new BufferedInputStream(raw, 512))) {
      FileHeader h = readHeader(in, file);
      long headerBytes = headerBytes(h.clientId());
      long payload = h.role() == ShareRole.SEED ? SeedShares.SEED_BYTES : (long) h.dims() * h.width();
      long size = Files.size(file);
      if (size != headerBytes + payload) {
        throw new IllegalArgumentException("upload file " + file + " has " + size + " bytes, expected "
            + (headerBytes + payload) + (size < headerBytes + payload ? " (truncated)" : ""));
      }
      return h;
    } catch (EOFException e) {
      throw new IllegalArgumentException("upload file " + file + " is truncated", e);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read upload file " + file + ": " + e.getMessage(), e);
    }
  }

  private static FileHeader readHeader(DataInputStream in, Path file) throws IOException {
    byte[] magic = new byte[4];
    in.readFully(magic);
    if (!Arrays.equals(magic, MAGIC)) {
      throw new IllegalArgumentException("file " + file + " is not a stored upload (bad magic)");
    }
    int version = in.readUnsignedByte();
    if (version != VERSION) {
      throw new IllegalArgumentException("upload file " + file + " has unsupported version " + version);
    }
    byte[] digest = new byte[32];
    in.readFully(digest);
    int party = in.readUnsignedByte();
    int idLen = in.readUnsignedShort();
    byte[] id = new byte[idLen];
    in.readFully(id);
    String clientId = new String(id, StandardCharsets.UTF_8);
    if (!ClientCertificates.isValidClientId(clientId)) {
      throw new IllegalArgumentException("upload file " + file + " has an invalid client id");
    }
    if (!fileName(clientId).equals(file.getFileName().toString())
        && !(fileName(clientId) + TEMP_SUFFIX).equals(file.getFileName().toString())) {
      throw new IllegalArgumentException("upload file " + file + " is not named for its client '" + clientId + "'");
    }
    byte[] nonce = new byte[UploadWire.NONCE_BYTES];
    in.readFully(nonce);
    int roleCode = in.readUnsignedByte();
    ShareRole role = ShareRole.ofCode(roleCode);
    if (role == null) {
      throw new IllegalArgumentException("upload file " + file + " has unknown role code " + roleCode);
    }
    int dims = in.readInt();
    int width = in.readUnsignedByte();
    if (dims < 1 || dims > RoundSpec.MAX_DIMS || (width != 4 && width != 8)) {
      throw new IllegalArgumentException("upload file " + file + " has invalid dims/width " + dims + "/" + width);
    }
    return new FileHeader(digest, party, clientId, nonce, role, dims, width);
  }

  /** Write a file header (the endpoint's side of the format). */
  static void writeHeader(DataOutputStream out, FileHeader h) throws IOException {
    Objects.requireNonNull(h);
    out.write(MAGIC);
    out.writeByte(VERSION);
    out.write(h.digest());
    out.writeByte(h.party());
    byte[] id = h.clientId().getBytes(StandardCharsets.UTF_8);
    out.writeShort(id.length);
    out.write(id);
    out.write(h.nonce());
    out.writeByte(h.role().code());
    out.writeInt(h.dims());
    out.writeByte(h.width());
  }

  /** Bytes of a file header for {@code clientId}. */
  static long headerBytes(String clientId) {
    return 4 + 1 + 32 + 1 + 2 + clientId.getBytes(StandardCharsets.UTF_8).length + UploadWire.NONCE_BYTES + 1 + 4 + 1;
  }
}
