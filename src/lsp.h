/* lsp.h - `dfix lsp`: a Language Server Protocol server (lsp.c). */
#ifndef DFIX_LSP_H
#define DFIX_LSP_H

#include <stdio.h>

/* Serve LSP (JSON-RPC 2.0, Content-Length framing) on in/out until the
 * client sends `exit` or closes the input. Returns the process exit
 * status: 0 when `shutdown` came before, 1 otherwise. */
int df_lsp_main(FILE *in, FILE *out);

#endif
