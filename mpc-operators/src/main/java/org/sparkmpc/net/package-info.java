/**
 * The share-exchange channel: how parties send each other batched share messages.
 *
 * <p>{@link org.sparkmpc.net.Channel} is what protocol code uses. {@link org.sparkmpc.net.Gateway}
 * implements it between processes over mutual TLS 1.3 with pinned per-party certificates (created
 * by {@link org.sparkmpc.net.KeyGen}, loaded by {@link org.sparkmpc.net.PartyCredentials}); {@link
 * org.sparkmpc.net.LocalChannelHub} implements it for parties as threads in one JVM. Both keep
 * received messages in a bounded {@link org.sparkmpc.net.Mailbox} until their operator is released
 * ({@link org.sparkmpc.net.Channel#releaseOperator}) or their session ends.
 *
 * <p>Nothing in this package logs or puts payload bytes into exception messages: errors name
 * parties, addresses, sessions, operators, partitions, rounds and byte counts.
 */
package org.sparkmpc.net;
