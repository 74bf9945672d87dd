FROM alpine
ONBUILD RUN <<EOF
echo onbuild
EOF
ONBUILD COPY <<X /x
x
X
