FROM alpine
RUN <<EOF
echo one
EOF
CMD x
