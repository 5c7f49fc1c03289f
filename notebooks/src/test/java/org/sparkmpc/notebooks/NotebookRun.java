package org.sparkmpc.notebooks;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * Executes one of this module's notebooks headless, as a reader's Jupyter would: {@code jupyter
 * nbconvert --to notebook --execute} with the project's Java kernel ({@code spark-mpc-java}, written
 * by this module's build), into a work folder, starting the kernel again when it misses Jupyter's
 * start-up handshake (rapaio 3.0.1 does, now and then). Then checks that every code cell ran
 * without an error. Needs Jupyter's nbconvert ({@code notebooks/setup.sh}); fails saying so
 * without it.
 */
final class NotebookRun {
  /** How many times the kernel is started before the test gives up. */
  static final int KERNEL_STARTS = 4;

  private NotebookRun() {}

  /** The notebooks folder (the module's base directory). */
  static Path notebooks() {
    return Path.of(System.getProperty("sparkmpc.notebooks.dir", ".")).toAbsolutePath();
  }

  private static Path jupyterPath() {
    return Path.of(System.getProperty("sparkmpc.notebooks.jupyterPath",
        notebooks().resolve("target/jupyter").toString()));
  }

  /** What became of a run: nbconvert's exit code and output, and the wall time of all starts. */
  record Execution(int exitCode, String log, long millis) {
    boolean kernelDidNotStart() {
      return log.contains("Kernel didn't respond") || log.contains("Kernel died before replying");
    }
  }

  /**
   * Executes {@code notebook} (a file name in the notebooks folder) into {@code work}, with {@code
   * env} added to its environment; before each start {@code out} (the notebook's own output
   * folder) is emptied. Fails if Jupyter or the kernel spec is missing.
   */
  static Execution execute(String notebook, Path work, Path out, Map<String, String> env)
      throws IOException, InterruptedException {
    requireJupyter();
    Path jupyter = jupyterPath();
    assertTrue(Files.isRegularFile(jupyter.resolve("kernels/spark-mpc-java/kernel.json")),
        "the kernel spec is missing under " + jupyter + "; the notebooks module's build writes "
            + "it (mvn -B -DskipTests package)");
    long t0 = System.nanoTime();
    Execution run = null;
    for (int start = 1; start <= KERNEL_STARTS; start++) {
      if (run != null) {
        System.err.println("the notebook kernel did not start; start " + start + " of "
            + KERNEL_STARTS + ":\n" + tail(run.log()));
      }
      deleteRecursively(out);
      run = once(notebook, work, env, t0);
      if (run.exitCode() == 0 || !run.kernelDidNotStart()) {
        break;
      }
    }
    return run;
  }

  private static Execution once(String notebook, Path work, Map<String, String> env, long t0)
      throws IOException, InterruptedException {
    Files.createDirectories(work);
    Path log = work.resolve(notebook.replace(".ipynb", "") + ".nbconvert.log");
    ProcessBuilder pb = new ProcessBuilder("jupyter", "nbconvert", "--to", "notebook", "--execute",
        "--ExecutePreprocessor.kernel_name=spark-mpc-java",
        "--ExecutePreprocessor.timeout=600", "--ExecutePreprocessor.startup_timeout=90",
        "--output-dir", work.toString(), notebooks().resolve(notebook).toString());
    pb.directory(notebooks().toFile());
    Map<String, String> e = pb.environment();
    e.put("JUPYTER_PATH", jupyterPath().toString());
    e.put("JUPYTER_DATA_DIR", jupyterPath().toString());
    e.put("JUPYTER_RUNTIME_DIR", work.resolve("jupyter-runtime").toString());
    e.putAll(env);
    pb.redirectErrorStream(true);
    pb.redirectOutput(log.toFile());
    Process p = pb.start();
    if (!p.waitFor(20, TimeUnit.MINUTES)) {
      p.descendants().forEach(ProcessHandle::destroyForcibly);
      p.destroyForcibly().waitFor();
      fail("jupyter nbconvert did not finish within 20 minutes:\n" + tail(Files.readString(log)));
    }
    return new Execution(p.exitValue(), Files.readString(log),
        (System.nanoTime() - t0) / 1_000_000);
  }

  /**
   * {@link #execute} {@code notebook}, print its time, and check that nbconvert succeeded, wrote
   * the executed notebook to {@code work} and that at least {@code minCells} code cells ran
   * without error ({@link #checkCells}). Returns the executed notebook's path.
   */
  static Path executeChecked(String notebook, Path work, Path out, Map<String, String> env,
      int minCells) throws Exception {
    Execution run = execute(notebook, work, out, env);
    System.out.printf("%s executed in %,d ms%n", notebook, run.millis());
    org.junit.jupiter.api.Assertions.assertEquals(0, run.exitCode(),
        "jupyter nbconvert failed:\n" + tail(run.log()));
    Path executed = work.resolve(notebook);
    org.junit.jupiter.api.Assertions.assertTrue(java.nio.file.Files.isRegularFile(executed),
        "nbconvert wrote no " + executed);
    checkCells(new com.fasterxml.jackson.databind.ObjectMapper().readTree(executed.toFile()),
        minCells);
    return executed;
  }

  /** Every code cell ran, none has an error output, and there are at least {@code min}. */
  static void checkCells(JsonNode notebook, int min) {
    int code = 0;
    for (JsonNode cell : notebook.get("cells")) {
      if (!cell.get("cell_type").asText().equals("code")) {
        continue;
      }
      code++;
      assertFalse(cell.get("execution_count").isNull(), "a code cell did not run: "
          + source(cell));
      for (JsonNode output : cell.get("outputs")) {
        if (output.get("output_type").asText().equals("error")) {
          fail("cell failed: " + output.path("ename").asText() + ": "
              + output.path("evalue").asText() + "\nin cell:\n" + source(cell));
        }
      }
    }
    assertTrue(code >= min, "the notebook has only " + code + " code cells");
  }

  private static void requireJupyter() {
    String why;
    try {
      Process p = new ProcessBuilder("jupyter", "nbconvert", "--version").redirectErrorStream(true)
          .start();
      String version = new String(p.getInputStream().readAllBytes()).trim();
      if (p.waitFor() == 0) {
        return;
      }
      why = "`jupyter nbconvert --version` failed: " + version;
    } catch (IOException e) {
      why = "there is no `jupyter` command";
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      why = "interrupted";
    }
    fail("Jupyter's nbconvert is needed to execute the notebooks, and " + why
        + ". Run notebooks/setup.sh (installs Debian's Jupyter packages; as root or with sudo).");
  }

  private static String source(JsonNode cell) {
    StringBuilder sb = new StringBuilder();
    JsonNode src = cell.get("source");
    if (src.isArray()) {
      src.forEach(l -> sb.append(l.asText()));
    } else {
      sb.append(src.asText());
    }
    return sb.length() > 400 ? sb.substring(0, 400) + "..." : sb.toString();
  }

  static String tail(String log) {
    return log.length() > 8000 ? "...\n" + log.substring(log.length() - 8000) : log;
  }

  static void deleteRecursively(Path dir) throws IOException {
    if (!Files.exists(dir)) {
      return;
    }
    try (Stream<Path> all = Files.walk(dir)) {
      for (Path p : all.sorted(java.util.Comparator.reverseOrder()).toList()) {
        Files.delete(p);
      }
    }
  }
}
