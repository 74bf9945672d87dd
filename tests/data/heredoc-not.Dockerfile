FROM alpine
RUN cat<<EOF
EOF
RUN echo "<<EOF"
EOF
RUN cat <<<EOF
EOF
RUN ["sh", "-c", "<<EOF"]
EOF
RUN cat << EOF
EOF
ENV X=<<EOF
EOF
