package org.sparkmpc.spark.table;

import java.io.IOException;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.spark.api.java.function.Function2;
import org.apache.spark.util.SerializableConfiguration;

/**
 * The executor side of {@link StoredTables}: each task writes, or reads and checks, the one
 * partition file of the partition it runs, through the party's Hadoop file system. Nothing here
 * sends anything to a peer.
 */
final class StoredTasks {
  private StoredTasks() {}

  /** Executor side of a save: writes the partition it is given. */
  static final class Write implements
      Function2<Integer, Iterator<SharePartition>, Iterator<StoredManifest.Part>> {
    private static final long serialVersionUID = 1L;
    private final SerializableConfiguration conf;
    private final String dir;
    private final String uid;
    private final org.apache.spark.sql.types.DataType[] publicTypes;

    Write(SerializableConfiguration conf, String dir, String uid,
        org.apache.spark.sql.types.DataType[] publicTypes) {
      this.conf = conf;
      this.dir = dir;
      this.uid = uid;
      this.publicTypes = publicTypes;
    }

    @Override
    public Iterator<StoredManifest.Part> call(Integer partition, Iterator<SharePartition> it)
        throws IOException {
      Path d = new Path(dir);
      FileSystem fs = StoredShareFile.fileSystem(d, conf.value());
      List<StoredManifest.Part> out = new ArrayList<>();
      while (it.hasNext()) {
        if (!out.isEmpty()) {
          throw new IllegalStateException("partition " + partition + " holds several batches");
        }
        out.add(StoredShareFile.write(fs, d, partition, uid, it.next(), publicTypes));
      }
      return out.iterator();
    }
  }

  /**
   * Executor side of a check after a failed load: reads one partition file as a load does and
   * reports a refusal as {@code local + '\0' + forPeers} (empty when the file is accepted) instead
   * of failing the task.
   */
  static final class Check implements
      Function2<Integer, Iterator<Integer>, Iterator<String>> {
    private static final long serialVersionUID = 1L;
    private final Load load;

    Check(SerializableConfiguration conf, String dir, StoredManifest manifest, String self) {
      this.load = new Load(conf, dir, manifest, self);
    }

    @Override
    public Iterator<String> call(Integer partition, Iterator<Integer> ignored) throws IOException {
      try {
        load.call(partition, ignored).next().close();
        return List.of("").iterator();
      } catch (StoredTableException e) {
        return List.of(e.getMessage() + '\0' + e.forPeers()).iterator();
      }
    }
  }

  /** Executor side of a load: reads, checks and caches one partition file. */
  static final class Load implements
      Function2<Integer, Iterator<Integer>, Iterator<SharePartition>> {
    private static final long serialVersionUID = 1L;
    private final SerializableConfiguration conf;
    private final String dir;
    private final StoredManifest manifest;
    private final String self;

    Load(SerializableConfiguration conf, String dir, StoredManifest manifest, String self) {
      this.conf = conf;
      this.dir = dir;
      this.manifest = manifest;
      this.self = self;
    }

    @Override
    public Iterator<SharePartition> call(Integer partition, Iterator<Integer> ignored)
        throws IOException {
      Path d = new Path(dir);
      FileSystem fs = StoredShareFile.fileSystem(d, conf.value());
      return List.of(StoredShareFile.read(fs, d, manifest.parts().get(partition), manifest.uid(),
          manifest.secureColumns(), manifest.publicTypes(), self, manifest.label())).iterator();
    }
  }
}
