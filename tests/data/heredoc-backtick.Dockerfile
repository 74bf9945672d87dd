# escape=`
FROM alpine
RUN <<EOF
echo `
EOF
RUN echo a `
  b
