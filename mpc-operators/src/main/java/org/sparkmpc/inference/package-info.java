/**
 * Secure inference of a logistic-regression or linear model over a long-lived session, without
 * Spark: the model's owner ({@link org.sparkmpc.inference.InferenceServer}) keeps its model
 * private, the client ({@link org.sparkmpc.inference.InferenceClient}) its rows, and each request
 * gives the client the model's output (a probability, a label bit, or a value) and nobody
 * anything else. Rows are secret-shared by the client (no traffic), the model once per session;
 * a request is a dot product (1 round) and the sigmoid (10 rounds), or a comparison for a label
 * (7 rounds), then an opening to the client (1 round). Correlated randomness comes from the dealer
 * or, for two parties, from oblivious transfer, prepared ahead in batches shared by many requests.
 * {@link org.sparkmpc.inference.InferenceMain} is the command line ({@code bin/infer});
 * {@link org.sparkmpc.inference.InferenceEndpoint} starts a party's gateway and sessions from its
 * properties.
 */
package org.sparkmpc.inference;
