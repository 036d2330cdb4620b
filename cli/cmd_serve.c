/*
 * cmd_serve.c - `kosearch serve`: parse the command line and run the
 * HTTP/JSON server (server/server.h, docs/http.md).
 *
 * The index's kind is probed here (cli_index_probe) so that the server's
 * writer continues the index as it is (backend, shards). The program
 * calls itself "kosearch serve" in the index's LOCK file, so that another
 * command finds "locked by another writer (kosearch serve, pid N)".
 */
#define _GNU_SOURCE /* program_invocation_short_name */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cli_util.h"
#include "kosearch.h"
#include "server.h"

static const char serve_help[] =
    "Usage: kosearch serve INDEX [OPTIONS]\n"
    "       kosearch serve --shard SPEC [--shard SPEC...] [OPTIONS]\n"
    "\n"
    "Serve INDEX (native or Xapian: detected) over HTTP with a JSON API and a\n"
    "search page (docs/http.md):\n"
    "  GET  /search?q=...&k=10&offset=0   ranked hits (the shape of search --json)\n"
    "  GET  /docs/ID                      the stored document\n"
    "  GET  /analyze?text=...             the analyzer's terms\n"
    "  GET  /stats, /health               statistics, liveness\n"
    "  GET  /                             the search page\n"
    "  PUT  /docs/ID, POST /docs, DELETE /docs/ID, POST /commit   (--allow-writes)\n"
    "\n"
    "Options:\n"
    "  --listen HOST:PORT      address (default 127.0.0.1:8080; port 0: any free\n"
    "                          port; the address is printed as \"listening on ...\")\n"
    "  --threads N             request threads (default: number of cores)\n"
    "  --allow-writes          accept writes; the server holds the index's writer\n"
    "                          lock (creates INDEX when missing)\n"
    "  --api-key-file FILE     writes need \"Authorization: Bearer KEY\", KEY = the\n"
    "                          first line of FILE\n"
    "  --refresh-ms N          commit pending writes and pick up new commits every\n"
    "                          N ms (default 1000)\n"
    "  --max-body-mb N         largest request body in MiB (default 64)\n"
    "  --max-query-bytes N     longest query q (default 4096)\n"
    "  --max-hits N            largest k + offset (default 10000)\n"
    "  --max-connections N     open connections at once (default 1024); more wait\n"
    "                          in the listen queue\n"
    "  --idle-timeout-s N      close idle connections after N s (default 30)\n"
    "  --request-timeout-s N   a request's headers and body must arrive within N s\n"
    "                          (default 30; 0: no limit)\n"
    "  --max-header-kb N       memory per connection for headers (default 32)\n"
    "  --shard SPEC            serve these Xapian shards as one index (repeat; a\n"
    "                          database path or tcp://HOST:PORT); no INDEX then\n"
    "  -q, --quiet             no access log on stderr\n"
    "  -h, --help              show this help\n"
    "\n"
    "Stops on SIGTERM or SIGINT: finishes the requests in progress, commits\n"
    "pending writes, exits 0. Only committed writes survive a crash.\n"
    "\n"
    "Example:\n"
    "  kosearch serve build/corpus.idx --listen 127.0.0.1:8080\n"
    "  curl 'http://127.0.0.1:8080/search?q=%EB%8C%80%ED%86%B5%EB%A0%B9&k=3'\n";

enum {
  OPT_LISTEN = CLI_OPT_FIRST_FREE,
  OPT_THREADS,
  OPT_ALLOW_WRITES,
  OPT_API_KEY_FILE,
  OPT_REFRESH_MS,
  OPT_MAX_BODY_MB,
  OPT_MAX_QUERY_BYTES,
  OPT_MAX_HITS,
  OPT_MAX_CONNECTIONS,
  OPT_IDLE_TIMEOUT,
  OPT_REQUEST_TIMEOUT,
  OPT_MAX_HEADER_KB,
  OPT_SHARD
};

static const struct option serve_options[] = {
    {"listen", required_argument, NULL, OPT_LISTEN},
    {"threads", required_argument, NULL, OPT_THREADS},
    {"allow-writes", no_argument, NULL, OPT_ALLOW_WRITES},
    {"api-key-file", required_argument, NULL, OPT_API_KEY_FILE},
    {"refresh-ms", required_argument, NULL, OPT_REFRESH_MS},
    {"max-body-mb", required_argument, NULL, OPT_MAX_BODY_MB},
    {"max-query-bytes", required_argument, NULL, OPT_MAX_QUERY_BYTES},
    {"max-hits", required_argument, NULL, OPT_MAX_HITS},
    {"max-connections", required_argument, NULL, OPT_MAX_CONNECTIONS},
    {"idle-timeout-s", required_argument, NULL, OPT_IDLE_TIMEOUT},
    {"request-timeout-s", required_argument, NULL, OPT_REQUEST_TIMEOUT},
    {"max-header-kb", required_argument, NULL, OPT_MAX_HEADER_KB},
    {"shard", required_argument, NULL, OPT_SHARD},
    {"quiet", no_argument, NULL, 'q'},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0}};

static int run_serve(int argc, char **argv) {
  const char *cmd = "serve";
  ks_server_opts o;
  ks_server_opts_default(&o);
  const char **shards = calloc((size_t)argc, sizeof *shards);
  if (!shards) return cli_error("out of memory");
  size_t nshards = 0;
  uint64_t u;
  int c, rc = CLI_USAGE;
  optind = 0;
  while ((c = cli_getopt(argc, argv, ":qh", serve_options, cmd)) != -1) {
    switch (c) {
    case 'h':
      cli_print_help(&cli_cmd_serve);
      free(shards);
      return CLI_OK;
    case 'q': o.quiet = 1; break;
    case OPT_LISTEN: o.listen = optarg; break;
    case OPT_ALLOW_WRITES: o.allow_writes = 1; break;
    case OPT_API_KEY_FILE: o.api_key_file = optarg; break;
    case OPT_SHARD: shards[nshards++] = optarg; break;
    case OPT_THREADS:
      if (cli_parse_u64(cmd, "--threads", optarg, 1, 1024, &u)) goto out;
      o.threads = (unsigned)u;
      break;
    case OPT_REFRESH_MS:
      if (cli_parse_u64(cmd, "--refresh-ms", optarg, 1, 86400000, &u)) goto out;
      o.refresh_ms = (unsigned)u;
      break;
    case OPT_MAX_BODY_MB:
      if (cli_parse_u64(cmd, "--max-body-mb", optarg, 1, 4096, &u)) goto out;
      o.max_body_bytes = u << 20;
      break;
    case OPT_MAX_QUERY_BYTES:
      if (cli_parse_u64(cmd, "--max-query-bytes", optarg, 1, 1 << 20, &u)) goto out;
      o.max_query_bytes = (size_t)u;
      break;
    case OPT_MAX_HITS:
      if (cli_parse_u64(cmd, "--max-hits", optarg, 1, KS_MAX_HITS, &u)) goto out;
      o.max_hits = (uint32_t)u;
      break;
    case OPT_MAX_CONNECTIONS:
      if (cli_parse_u64(cmd, "--max-connections", optarg, 1, 1000000, &u)) goto out;
      o.max_connections = (unsigned)u;
      break;
    case OPT_IDLE_TIMEOUT:
      if (cli_parse_u64(cmd, "--idle-timeout-s", optarg, 1, 86400, &u)) goto out;
      o.idle_timeout_s = (unsigned)u;
      break;
    case OPT_REQUEST_TIMEOUT:
      if (cli_parse_u64(cmd, "--request-timeout-s", optarg, 0, 86400, &u)) goto out;
      o.request_timeout_s = (unsigned)u;
      break;
    case OPT_MAX_HEADER_KB:
      if (cli_parse_u64(cmd, "--max-header-kb", optarg, 4, 1024, &u)) goto out;
      o.max_header_bytes = (size_t)u << 10;
      break;
    default:
      goto out;
    }
  }
  if (nshards) {
    if (optind < argc) {
      rc = cli_usage(cmd, "give either INDEX or --shard SPEC..., not both");
      goto out;
    }
    if (o.allow_writes) {
      rc = cli_usage(cmd, "--allow-writes cannot be used with --shard (write through kosearch add)");
      goto out;
    }
    o.shards = shards;
    o.nshards = nshards;
  } else {
    if (optind >= argc) {
      rc = cli_usage(cmd, "missing INDEX");
      goto out;
    }
    if (optind + 1 < argc) {
      rc = cli_usage(cmd, "unexpected argument '%s' (one INDEX only)", argv[optind + 1]);
      goto out;
    }
    o.index = argv[optind];
    cli_index_info info;
    if (cli_index_probe(o.index, &info)) {
      rc = CLI_ERROR;
      goto out;
    }
    if (!info.exists && !o.allow_writes) {
      rc = cli_error("%s: no index there (build one with kosearch index, or start with "
                     "--allow-writes to create an empty one)", o.index);
      goto out;
    }
    o.create = !info.exists;
    o.writer_backend = info.exists ? info.backend : "native";
    o.writer_shards = info.shards;
    if (o.allow_writes) program_invocation_short_name = "kosearch serve"; /* LOCK file */
  }
  rc = ks_server_run(&o) ? CLI_ERROR : CLI_OK;
out:
  free(shards);
  return rc;
}

const cli_command cli_cmd_serve = {"serve", "serve an index over HTTP (JSON API and search page)",
                                   serve_help, run_serve};
