# escape=`
FROM mcr.microsoft.com/windows/servercore
WORKDIR C:\Users\Public
RUN echo one `
    two
COPY . C:\app\
ENV PATH C:\bin;C:\tools
