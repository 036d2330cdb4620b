/*
 * page.c - implements the page.c section of server_int.h: GET / and
 * /index.html answer server/page.html, which the build embeds in the
 * binary as srv_page_html (cmake/ks_embed.cmake generates page_html.c from
 * it), so the server needs no file at run time.
 */
#include <stddef.h>

#include "server_int.h"

extern const unsigned char srv_page_html[];
extern const size_t srv_page_html_len;

/* Contract: server_int.h. */
SRV_MHD_RESULT srv_api_page(srv_server *s, srv_request *rq) {
  (void)s;
  struct MHD_Response *r = MHD_create_response_from_buffer(
      srv_page_html_len, (void *)srv_page_html, MHD_RESPMEM_PERSISTENT);
  if (!r) return MHD_NO;
  MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, "text/html; charset=utf-8");
  MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
  MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-cache");
  /* the page loads nothing from elsewhere and builds results as text nodes;
   * the policy forbids anything else too (defence in depth) */
  MHD_add_response_header(r, "Content-Security-Policy",
                          "default-src 'none'; script-src 'unsafe-inline'; "
                          "style-src 'unsafe-inline'; connect-src 'self'; "
                          "img-src data:; base-uri 'none'; form-action 'self'");
  SRV_MHD_RESULT ret = MHD_queue_response(rq->conn, 200, r);
  MHD_destroy_response(r);
  rq->status = 200;
  rq->answered = 1;
  return ret;
}
