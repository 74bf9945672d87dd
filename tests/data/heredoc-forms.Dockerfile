FROM alpine
RUN <<EOF
echo hello
EOF
RUN <<-EOT
	echo tabbed
		EOT
RUN <<'EOF'
echo $HOME
EOF
RUN <<"EOF"
echo "$HOME"
EOF
RUN 3<<EOF cat /proc/self/fd/3
data
EOF
RUN <<A <<B
a body
A
b body
B
RUN cat <<A && cat <<-B
FROM not-an-instruction
A
	B
COPY <<EOF /dst
file content
  EOF
EOF
ADD --chmod=755 <<EOF /run.sh
#!/bin/sh
EOF
CMD ["done"]
