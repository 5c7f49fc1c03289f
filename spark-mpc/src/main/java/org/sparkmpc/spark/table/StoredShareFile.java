package org.sparkmpc.spark.table;

import java.io.BufferedOutputStream;
import java.io.ByteArrayInputStream;
import java.io.DataOutputStream;
import java.io.FileNotFoundException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.Channels;
import java.nio.charset.StandardCharsets;
import java.security.DigestOutputStream;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.vector.BigIntVector;
import org.apache.arrow.vector.FieldVector;
import org.apache.arrow.vector.IntVector;
import org.apache.arrow.vector.VectorSchemaRoot;
import org.apache.arrow.vector.ipc.ArrowStreamReader;
import org.apache.arrow.vector.ipc.ArrowStreamWriter;
import org.apache.arrow.vector.types.pojo.ArrowType;
import org.apache.arrow.vector.util.TransferPair;
import org.apache.hadoop.fs.FSDataInputStream;
import org.apache.hadoop.fs.FSDataOutputStream;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.spark.sql.types.DataType;
import org.apache.spark.sql.util.ArrowUtils;

/**
 * One partition of a stored share table as a file of this party ({@code part-NNNNN.arrow}), written
 * and read by the executor that holds the partition, through Hadoop's {@link FileSystem} (a local
 * folder, HDFS, or whatever the party's Spark is configured for).
 *
 * <p>Layout: the magic {@code SPMPCST1}; a 4-byte length and a UTF-8 header (table identity,
 * partition, rows, which share columns carry high words, each column's magnitude bound); a 4-byte
 * length and the public columns, dictionary-coded with their dictionaries as Arrow IPC ({@link
 * PublicColumns}'s form); then, to the end of the file, an Arrow IPC stream of one record batch of
 * this party's shares ({@code BigInt} columns: each share column, followed by its high words where
 * present). All integers big-endian except Arrow's own buffers.
 *
 * <p>A file is read whole, its length and SHA-256 checked against the authenticated manifest, and
 * only then parsed: a flipped byte, a truncated, missing or swapped file is refused naming the file
 * before anything in it is interpreted. Nothing is Java-deserialised.
 */
final class StoredShareFile {
  private static final byte[] MAGIC = "SPMPCST1".getBytes(StandardCharsets.US_ASCII);

  private StoredShareFile() {}

  /**
   * The file system of {@code dir} for stored tables: Hadoop's own, but without the side files of
   * a checksumming file system (the local one writes a {@code .crc} beside each file and fails
   * reads with its own error): the manifest's SHA-256 per file is the integrity check here.
   */
  static FileSystem fileSystem(Path dir, org.apache.hadoop.conf.Configuration conf)
      throws IOException {
    FileSystem fs = dir.getFileSystem(conf);
    return fs instanceof org.apache.hadoop.fs.ChecksumFileSystem c ? c.getRawFileSystem() : fs;
  }

  /** The file name of partition {@code i}. */
  static String fileName(int partition) {
    return String.format(java.util.Locale.ROOT, "part-%05d.arrow", partition);
  }

  /** Write {@code p}, partition {@code partition} of table {@code uid}, into {@code dir}. */
  static StoredManifest.Part write(FileSystem fs, Path dir, int partition, String uid,
      SharePartition p, DataType[] publicTypes) throws IOException {
    String name = fileName(partition);
    Path file = new Path(dir, name);
    MessageDigest sha = sha256();
    int k = p.secureColumns();
    StringBuilder header = new StringBuilder("table=").append(uid).append("\npartition=")
        .append(partition).append("\nrows=").append(p.rows()).append("\nhigh=");
    List<FieldVector> vectors = new ArrayList<>();
    for (int c = 0; c < k; c++) {
      vectors.add(p.shareVector(c));
      BigIntVector h = p.highVector(c);
      header.append(c > 0 ? "," : "").append(h != null ? 1 : 0);
      if (h != null) {
        vectors.add(h);
      }
    }
    header.append("\nbits=");
    for (int c = 0; c < k; c++) {
      header.append(c > 0 ? "," : "").append(p.bits(c));
    }
    header.append('\n');
    byte[] pub;
    int[][] codes = new int[p.publicColumns()][];
    Object[][] dicts = new Object[codes.length][];
    for (int c = 0; c < codes.length; c++) {
      codes[c] = p.codes(c);
      dicts[c] = p.dictionary(c);
    }
    try (BufferAllocator alloc = ArrowUtils.rootAllocator().newChildAllocator("store-" + name, 0,
        Long.MAX_VALUE)) {
      pub = PublicColumns.encode(p.rows(), codes, dicts, publicTypes, alloc);
    }
    try (FSDataOutputStream raw = fs.create(file, true);
         DigestOutputStream digest = new DigestOutputStream(new BufferedOutputStream(raw, 1 << 16),
             sha)) {
      DataOutputStream out = new DataOutputStream(digest);
      byte[] h = header.toString().getBytes(StandardCharsets.UTF_8);
      out.write(MAGIC);
      out.writeInt(h.length);
      out.write(h);
      out.writeInt(pub.length);
      out.write(pub);
      // The root borrows the partition's vectors: it is not closed, the partition keeps them.
      VectorSchemaRoot root = new VectorSchemaRoot(vectors);
      root.setRowCount(p.rows());
      ArrowStreamWriter w = new ArrowStreamWriter(root, null, Channels.newChannel(out));
      w.start();
      w.writeBatch();
      w.end();
      out.flush();
    }
    long bytes = fs.getFileStatus(file).getLen();
    return new StoredManifest.Part(partition, name, p.rows(), bytes,
        HexFormat.of().formatHex(sha.digest()));
  }

  /**
   * Read partition {@code part} of the table {@code m} from {@code dir}, checked against the
   * manifest before it is parsed.
   *
   * @param table the table's label, for errors
   * @throws StoredTableException naming the file when it is missing, of another length, of another
   *     digest, or inconsistent with the manifest
   */
  static SharePartition read(FileSystem fs, Path dir, StoredManifest.Part part, String uid,
      int shareColumns, DataType[] publicTypes, String self, String table) throws IOException {
    Path file = new Path(dir, part.file());
    String peers = "partition file " + part.file() + " of party " + self + "'s stored copy of "
        + table;
    long len;
    try {
      len = fs.getFileStatus(file).getLen();
    } catch (FileNotFoundException e) {
      throw new StoredTableException("stored " + table + ": partition file " + file
          + " is missing (deleted or moved); refused at party " + self, peers + " is missing");
    }
    if (len != part.bytes() || len > Integer.MAX_VALUE - 16) {
      throw new StoredTableException("stored " + table + ": partition file " + file + " has "
          + len + " bytes and its manifest says " + part.bytes() + " (truncated, extended or "
          + "replaced); refused at party " + self, peers + " has another length than its "
          + "manifest says (truncated or replaced)");
    }
    byte[] bytes = new byte[(int) len];
    try (FSDataInputStream in = fs.open(file)) {
      in.readFully(0, bytes);
    }
    byte[] actual = sha256().digest(bytes);
    if (!MessageDigest.isEqual(actual, HexFormat.of().parseHex(part.sha256()))) {
      throw new StoredTableException("stored " + table + ": partition file " + file + " does "
          + "not match the SHA-256 in its manifest (altered, or swapped with another file); "
          + "refused at party " + self, peers + " does not match its manifest's digest "
          + "(altered or swapped)");
    }
    return parse(bytes, part, uid, shareColumns, publicTypes, self, file.toString());
  }

  private static SharePartition parse(byte[] bytes, StoredManifest.Part part, String uid,
      int k, DataType[] publicTypes, String self, String where) throws IOException {
    ByteBuffer in = ByteBuffer.wrap(bytes);
    byte[] magic = new byte[MAGIC.length];
    in.get(magic);
    if (!Arrays.equals(magic, MAGIC)) {
      throw inconsistent(where, "it is not a stored share partition");
    }
    byte[] h = new byte[in.getInt()];
    in.get(h);
    String[] lines = new String(h, StandardCharsets.UTF_8).split("\n");
    if (lines.length != 5 || !lines[0].equals("table=" + uid)
        || !lines[1].equals("partition=" + part.partition())
        || !lines[2].equals("rows=" + part.rows())) {
      throw inconsistent(where, "its header names another table, partition or row count");
    }
    int rows = (int) part.rows();
    boolean[] hasHigh = new boolean[k];
    int[] bits = new int[k];
    String[] hi = lines[3].substring("high=".length()).split(",", -1);
    String[] bi = lines[4].substring("bits=".length()).split(",", -1);
    if (k > 0 && (hi.length != k || bi.length != k)) {
      throw inconsistent(where, "its header has another number of share columns");
    }
    for (int c = 0; c < k; c++) {
      hasHigh[c] = hi[c].equals("1");
      bits[c] = Integer.parseInt(bi[c]);
    }
    byte[] pub = new byte[in.getInt()];
    in.get(pub);
    BufferAllocator alloc = ShareMemory.child("stored partition " + part.partition());
    BigIntVector[] shares = new BigIntVector[k];
    BigIntVector[] highs = new BigIntVector[k];
    IntVector[] codes = new IntVector[publicTypes.length];
    try {
      PublicColumns.Decoded d;
      try (BufferAllocator tmp = ArrowUtils.rootAllocator().newChildAllocator("load-"
          + part.partition(), 0, Long.MAX_VALUE)) {
        d = PublicColumns.decode(pub, publicTypes, self, "stored file " + where, tmp);
      }
      if (d.rows() != rows) {
        throw inconsistent(where, "its public columns have another row count");
      }
      try (ArrowStreamReader r = new ArrowStreamReader(new ByteArrayInputStream(bytes,
          in.position(), bytes.length - in.position()), alloc)) {
        VectorSchemaRoot root = r.getVectorSchemaRoot();
        int expected = k;
        for (boolean b : hasHigh) {
          expected += b ? 1 : 0;
        }
        if (!r.loadNextBatch() || root.getRowCount() != rows
            || root.getFieldVectors().size() != expected) {
          throw inconsistent(where, "its shares have another shape");
        }
        for (FieldVector v : root.getFieldVectors()) {
          if (!(v.getField().getType() instanceof ArrowType.Int t) || t.getBitWidth() != 64) {
            throw inconsistent(where, "its shares are not 64-bit integers");
          }
        }
        int f = 0;
        for (int c = 0; c < k; c++) {
          shares[c] = (BigIntVector) take(root.getVector(f++), alloc);
          if (hasHigh[c]) {
            highs[c] = (BigIntVector) take(root.getVector(f++), alloc);
          }
        }
      }
      for (int p = 0; p < codes.length; p++) {
        IntVector v = ShareMemory.ints(alloc, "p" + p, rows, "a stored table partition");
        v.getDataBuffer().nioBuffer(0, 4 * rows).order(java.nio.ByteOrder.LITTLE_ENDIAN)
            .asIntBuffer().put(d.codes()[p], 0, rows);
        v.getValidityBuffer().setOne(0, v.getValidityBuffer().capacity());
        codes[p] = v;
      }
      return new SharePartition(rows, shares, highs, codes, d.dictionaries(), bits, alloc);
    } catch (IOException | RuntimeException e) {
      for (FieldVector[] vs : new FieldVector[][] {shares, highs, codes}) {
        for (FieldVector v : vs) {
          if (v != null) {
            v.close();
          }
        }
      }
      alloc.close();
      throw e;
    }
  }

  private static FieldVector take(FieldVector v, BufferAllocator alloc) {
    TransferPair t = v.getTransferPair(alloc);
    t.transfer();
    return (FieldVector) t.getTo();
  }

  private static StoredTableException inconsistent(String where, String why) {
    return new StoredTableException("stored partition file " + where + " matches its digest "
        + "but not its manifest: " + why, "a stored partition file is inconsistent with its "
        + "manifest (" + why + ")");
  }

  static MessageDigest sha256() {
    try {
      return MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }
}
