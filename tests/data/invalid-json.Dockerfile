FROM alpine
CMD ["echo", 'single']
ENTRYPOINT [ "a", "b"
RUN ["echo", "ok"] trailing
CMD []
CMD ["a" "b"]
SHELL ["/bin/sh", "-c"]
