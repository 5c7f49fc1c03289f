package org.sparkmpc.net;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.function.BiFunction;

/** A command-line tool run in-process: its exit status and what it printed. */
public record ToolOutput(int code, String out, String err) {

  /** Run {@code tool} (given its output and error streams), capturing both. */
  public static ToolOutput of(BiFunction<PrintStream, PrintStream, Integer> tool) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    int code;
    try (PrintStream o = new PrintStream(out, true, StandardCharsets.UTF_8);
         PrintStream e = new PrintStream(err, true, StandardCharsets.UTF_8)) {
      code = tool.apply(o, e);
    }
    return new ToolOutput(code, out.toString(StandardCharsets.UTF_8),
        err.toString(StandardCharsets.UTF_8));
  }

  @Override
  public String toString() {
    return "exit " + code + "\n--- out:\n" + out + "--- err:\n" + err;
  }
}
