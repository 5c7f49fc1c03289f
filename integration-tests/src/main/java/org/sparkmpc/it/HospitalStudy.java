package org.sparkmpc.it;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;

/**
 * The demo's part four, the clinical study end to end: two hospitals with overlapping but
 * different patient sets ({@link SampleData#studyPatients}) align their rows by private set
 * intersection on the patient id ({@code input.patients.intersectBy=id}), share their columns of
 * the patients both have, and fit a logistic regression of readmission with the party runner's
 * {@code job=logistic}; a dealer process supplies the correlated randomness. Only the model is
 * opened, to both. Printed beside Spark ML's fit on the joined rows; exits 1 if accuracy or AUC
 * differ by more than 0.005, or if the intersection is not the patients both hold.
 */
final class HospitalStudy {
  private HospitalStudy() {}

  static final List<String> MEMBERS = List.of("hospitalA", "hospitalB", "dealer");
  static final double REG = 0.01;

  static void run(SparkSession spark, Path work, long patients) throws Exception {
    System.out.println();
    System.out.printf("Part four: a readmission study. hospitalA has %,d patients (age, bmi, "
        + "smoker), hospitalB %,d (dose, readmitted), three quarters of them the same people, "
        + "with ids spelt otherwise. Private set intersection on the id aligns the patients both "
        + "have without showing either hospital the other's patient list; a secure logistic "
        + "regression runs on their shares; only the model is opened.%n", patients, patients);
    Path[] files = SampleData.studyPatients(work.resolve("data"), patients);
    List<LocalParties.Outcome> outs = Demo.runWithDealer(work, MEMBERS, (i, p) -> {
      p.setProperty("job", "logistic");
      p.setProperty("input.patients.path", files[i].toString());
      p.setProperty("input.patients.schema", i == 0 ? "id STRING, age INT, bmi DOUBLE, smoker INT"
          : "id STRING, dose DOUBLE, readmitted INT");
      p.setProperty("input.patients.intersectBy", "id");
      p.setProperty("input.patients.share", i == 0 ? "age,bmi,smoker" : "dose,readmitted");
      p.setProperty("regression.table", "patients");
      p.setProperty("regression.features", String.join(",", SampleData.STUDY_FEATURES));
      p.setProperty("regression.label", "readmitted");
      p.setProperty("regression.regParam", Double.toString(REG));
      p.setProperty("output", work.resolve(MEMBERS.get(i)).resolve("model").toString());
    });
    for (LocalParties.Outcome o : outs) {
      o.stdout().lines().filter(l -> l.contains("private set intersection"))
          .forEach(l -> System.out.println(o.party() + ": " + l.replace("spark-mpc: ", "")));
    }
    Dataset<Row> a = spark.read().option("header", "true")
        .schema("id STRING, age INT, bmi DOUBLE, smoker INT").csv(files[0].toString())
        .selectExpr("lower(trim(id)) AS id", "CAST(age AS DOUBLE) age", "bmi",
            "CAST(smoker AS DOUBLE) smoker");
    Dataset<Row> b = spark.read().option("header", "true")
        .schema("id STRING, dose DOUBLE, readmitted INT").csv(files[1].toString())
        .selectExpr("lower(trim(id)) AS id", "dose", "CAST(readmitted AS DOUBLE) readmitted");
    Dataset<Row> joined = a.join(b, "id").cache();
    long common = joined.count();
    LogisticComparison c = LogisticComparison.compare(
        LogisticComparison.readModel(work.resolve("hospitalA/model/model.csv")), joined,
        SampleData.STUDY_FEATURES, "readmitted", REG, SampleData.STUDY_MODEL);
    boolean same = Files.readString(work.resolve("hospitalA/model/model.csv"))
        .equals(Files.readString(work.resolve("hospitalB/model/model.csv")));
    System.out.println();
    System.out.printf("%,d patients at both hospitals, %.1f %% readmitted; accuracy and AUC of "
        + "both models on them. Both hospitals received the same model: %s%n", c.rows(),
        100 * c.positiveShare(), same);
    System.out.printf("secure PSI and fit at hospitalA (%s); Spark ML fit on the joined rows: "
        + "%,d ms%n", Demo.timings(outs.get(0).stdout()).replace("bank1: ", ""), c.sparkMlMillis());
    boolean expected = outs.get(0).stdout().contains(String.format(java.util.Locale.ROOT,
        "%,d in common", common));
    if (!c.agrees(0.005) || !same || !expected) {
      System.err.println("the study differs from plaintext: accuracy "
          + Arrays.toString(c.accuracy()) + ", AUC " + Arrays.toString(c.auc())
          + ", same model at both: " + same + ", intersection of " + common + " found: "
          + expected);
      System.exit(1);
    }
  }
}
